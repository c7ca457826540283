//! One module per command; each `run` takes the command's parsed arguments.

pub mod erase;
pub mod flash;
pub mod flash_all;
pub mod flash_board;
pub mod flash_layout;
pub mod info;
pub mod inspect;
pub mod list;
pub mod pack;
pub mod read;
pub mod suffix;
pub mod watch;
