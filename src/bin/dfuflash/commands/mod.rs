//! One module per command; each `run` takes the command's parsed arguments.

pub mod erase;
pub mod flash;
pub mod info;
pub mod inspect;
pub mod list;
pub mod pack;
pub mod read;
pub mod suffix;
