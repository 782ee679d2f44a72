pub mod auth_smtp;
pub mod external;
pub mod mime;
pub mod rig;
pub mod served;
pub mod smtp;
pub mod staff_site;
