pub mod rig;
pub mod smtp;
