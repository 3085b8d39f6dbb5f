//! Exchange items for the demo, so that inboxes, outboxes and statistics show something on the
//! first run: verification requests from 滨城区 to the origin counties (some answered, some
//! waiting, an urgent one), and a few from 平昌县 about its people living in 滨城区.

use domain::OrgCode;
use store::PersonFilter;

use crate::service::exchange::{AnswerRequest, ItemRequest};
use crate::service::{Actor, App, ServiceResult};

impl App {
    /// Creates the demo's exchange items; returns how many.
    pub async fn seed_demo_exchange(&self) -> ServiceResult<u64> {
        let console = Actor::console(OrgCode::parse("00").expect("static code"));
        let inflow = PersonFilter { direction: Some("in".to_owned()), ..Default::default() };
        let people = self.store.persons_after(&inflow, 0, 40).await?;
        let mut made = 0;
        for (i, p) in people.iter().enumerate().take(24) {
            let req = ItemRequest {
                kind: if i % 6 == 5 { "service_info" } else { "verification" }.to_owned(),
                person_id: p.id,
                categories: if i % 6 == 5 {
                    vec!["births".to_owned()]
                } else {
                    vec!["basic".to_owned(), "spouse".to_owned()]
                },
                reason: None,
                remarks: String::new(),
                submit: i % 8 != 7,
            };
            let Ok(id) = self.create_exchange_item(&console, &req).await else { continue };
            made += 1;
            // The origin has dealt with some of them already.
            if i % 3 == 0 && req.submit {
                let answer = AnswerRequest {
                    found: i % 9 != 0,
                    remarks: if i % 9 == 0 {
                        "经查本县育龄妇女数据库、手工台账和公安户籍，均无此人".to_owned()
                    } else {
                        String::new()
                    },
                    search_steps: if i % 9 == 0 {
                        vec!["own_records".into(), "manual_ledger".into(), "police".into()]
                    } else {
                        vec!["own_records".into()]
                    },
                    facts: Default::default(),
                };
                self.answer_exchange_item(&console, id, &answer).await?;
            } else if i % 3 == 1 && req.submit {
                self.receive_exchange_item(&console, id).await?;
            }
        }
        Ok(made)
    }
}
