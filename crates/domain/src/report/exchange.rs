// ---- exchange figures -----------------------------------------------------------------------------

/// The exchange items of one kind in a period, seen from a subtree (both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExchangeFigures {
    /// Submitted in the period about people managed in the subtree.
    pub sent: u64,
    /// Of those, urgent (紧急).
    pub sent_urgent: u64,
    /// Of those, answered by the other side by the period's end.
    pub sent_answered: u64,
    /// Of those asking for an answer, past their last day at the end and not answered by then.
    pub sent_overdue: u64,
    /// Submitted in the period to the subtree (the other end of the move lies in it).
    pub incoming: u64,
    /// Of those, received by the end.
    pub received: u64,
    /// Of those, asking for an answer (received or not).
    pub feedback_due: u64,
    /// Of those, answered by the end.
    pub answered: u64,
    /// Of those, answered by their last day.
    pub answered_on_time: u64,
    /// Of the incoming, past their last day at the end and not done by then (answered, or for an
    /// item only to be received, received).
    pub overdue: u64,
}

impl std::ops::AddAssign for ExchangeFigures {
    fn add_assign(&mut self, o: ExchangeFigures) {
        self.sent += o.sent;
        self.sent_urgent += o.sent_urgent;
        self.sent_answered += o.sent_answered;
        self.sent_overdue += o.sent_overdue;
        self.incoming += o.incoming;
        self.received += o.received;
        self.feedback_due += o.feedback_due;
        self.answered += o.answered;
        self.answered_on_time += o.answered_on_time;
        self.overdue += o.overdue;
    }
}

/// The kinds of exchange items, in the table's order.
pub const EXCHANGE_KINDS: [&str; 3] = ["verification", "notification", "service_info"];

/// One count of [`ExchangeFigures`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeField {
    Sent,
    SentUrgent,
    SentAnswered,
    SentOverdue,
    Incoming,
    Received,
    FeedbackDue,
    Answered,
    AnsweredOnTime,
    Overdue,
}

impl ExchangeFigures {
    pub fn get(&self, field: ExchangeField) -> u64 {
        match field {
            ExchangeField::Sent => self.sent,
            ExchangeField::SentUrgent => self.sent_urgent,
            ExchangeField::SentAnswered => self.sent_answered,
            ExchangeField::SentOverdue => self.sent_overdue,
            ExchangeField::Incoming => self.incoming,
            ExchangeField::Received => self.received,
            ExchangeField::FeedbackDue => self.feedback_due,
            ExchangeField::Answered => self.answered,
            ExchangeField::AnsweredOnTime => self.answered_on_time,
            ExchangeField::Overdue => self.overdue,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeColumn {
    Count(ExchangeField),
    /// A rate: the figures of two other columns (by index) divided.
    Ratio(usize, usize),
}
