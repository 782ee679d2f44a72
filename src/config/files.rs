//! The data folder is the service user's alone: the files the service writes are 0600 and its folders 0700,
//! whatever the umask, for they hold password hashes, session tokens, members' personal data and working
//! member links.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

use super::Settings;

pub const FILE_MODE: u32 = 0o600;
pub const FOLDER_MODE: u32 = 0o700;

/// Creates `folder` and its missing parents, each 0700 (folders already there are left as they are).
pub fn create_private_folder(folder: &Path) -> io::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_folder(parent)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    builder.mode(FOLDER_MODE);
    match builder.create(folder) {
        // A umask can only have taken bits away (0700 under umask 0777 is 0000): set them exactly.
        Ok(()) => set_mode(folder, FOLDER_MODE),
        // Another process made it meanwhile.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && folder.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// A new file, 0600 from the moment it exists (created with that mode, not changed after writing); an error
/// if it exists already.
pub fn create_private_file(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    open_private(&options, path)
}

/// Writes `contents` to `path`, replacing what it held; the file is 0600 before the first byte is written,
/// even if it was left more open (a temporary file from an earlier crash).
pub fn write_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    open_private(&options, path)?.write_all(contents)
}

/// Opens `path` to write anew (created, or truncated), 0600 as `write_private_file` leaves it.
pub fn rewrite_private_file(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    open_private(&options, path)
}

fn open_private(options: &fs::OpenOptions, path: &Path) -> io::Result<fs::File> {
    let mut options = options.clone();
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let file = options.open(path)?;
    // On the open file: exactly 0600 whatever the umask, and an existing file (already truncated) too.
    #[cfg(unix)]
    file.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// The file of a SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`); none for another database or one in memory.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// What [`Settings::tighten_data_folder`] made private.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tightened {
    pub folders: usize,
    pub files: usize,
}

impl Settings {
    /// Makes private what an earlier version, a hand or a umask left open to other users: the data folder, the
    /// outbox and the files in it, the SQLite database with its -wal, -shm and -journal files, the signing key
    /// file. Only these: a data folder in a shared place keeps everything else as it is. Symbolic links are
    /// not followed.
    pub fn tighten_data_folder(&self) -> io::Result<Tightened> {
        let mut done = Tightened::default();
        let mut folders = vec![self.data_dir.clone(), self.delivery.outbox.clone()];
        let mut files = Vec::new();
        if let Some(database) = sqlite_file(&self.database.url) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = database.as_os_str().to_owned();
                name.push(suffix);
                files.push(PathBuf::from(name));
            }
            folders.extend(database.parent().map(Path::to_path_buf));
        }
        if !self.web.signing_key_file.is_empty() {
            let key = PathBuf::from(&self.web.signing_key_file);
            folders.extend(key.parent().map(Path::to_path_buf));
            files.push(key);
        }
        if let Ok(outbox) = fs::read_dir(&self.delivery.outbox) {
            for entry in outbox {
                files.push(entry?.path());
            }
        }
        // A folder of the database or the key outside the data folder may be shared (/var/lib): left alone.
        folders.retain(|f| f.starts_with(&self.data_dir) && !f.as_os_str().is_empty());
        folders.sort();
        folders.dedup();
        for folder in &folders {
            done.folders += usize::from(tighten(folder, true)?);
        }
        for file in &files {
            done.files += usize::from(tighten(file, false)?);
        }
        Ok(done)
    }
}

/// Sets the private mode on `path` if it is a folder (or a regular file) more open than that; whether it did.
fn tighten(path: &Path, folder: bool) -> io::Result<bool> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    };
    let wanted = if folder { FOLDER_MODE } else { FILE_MODE };
    if (folder && !meta.is_dir()) || (!folder && !meta.is_file()) || mode_of(&meta) == wanted {
        return Ok(false);
    }
    set_mode(path, wanted).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(true)
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    meta.permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode_of(_meta: &fs::Metadata) -> u32 {
    FILE_MODE
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_private_and_an_open_file_is_closed_before_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_folder(&nested).unwrap();
        assert_eq!((mode(&dir.path().join("a")), mode(&nested)), (0o700, 0o700));
        let file = nested.join("f");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            create_private_file(&file).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&file, b"mail").unwrap();
        assert_eq!((mode(&file), fs::read(&file).unwrap()), (0o600, b"mail".to_vec()));
    }

    #[test]
    fn sqlite_files_are_found_in_their_urls() {
        assert_eq!(sqlite_file("sqlite:///srv/o.db?mode=rwc"), Some(Path::new("/srv/o.db")));
        assert_eq!(sqlite_file("sqlite:o.db"), Some(Path::new("o.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/d"), None);
    }
}
