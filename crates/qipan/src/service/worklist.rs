//! The clerk's day (首页待办): the work of the actor's unit for today.
