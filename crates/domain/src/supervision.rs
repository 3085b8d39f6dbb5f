//! Supervision (监管平台, DESIGN §8): performance scores, orders (督办) and their rules.
