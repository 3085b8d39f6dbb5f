//! Supervision (监管平台): monitoring, performance, ranking, bulletins, orders (督办), bulk reminders.
