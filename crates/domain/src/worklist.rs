//! The clerk's day (首页待办, DESIGN §7): what falls due when, and when it shows.
