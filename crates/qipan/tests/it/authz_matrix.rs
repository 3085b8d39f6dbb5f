//! The authorization matrix: every route of the application (taken from the router's own table,
//! so that a new route cannot be forgotten) × every role × (inside its scope / outside it /
//! anonymous), against the expectations written out here. Later issues add rows to
//! [`expected`]; the mechanism stays.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use qipan::service::App;

use crate::helpers::{Reply, Session, demo_app, demo_login, send};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Clerk,
    Township,
    County,
    Supervisor,
    SysAdmin,
    SecAdmin,
    Auditor,
    Department,
    Anonymous,
}

const EVERYONE: [Who; 9] = [
    Who::Clerk,
    Who::Township,
    Who::County,
    Who::Supervisor,
    Who::SysAdmin,
    Who::SecAdmin,
    Who::Auditor,
    Who::Department,
    Who::Anonymous,
];

const ACCOUNTS: [Who; 7] =
    [Who::Clerk, Who::Township, Who::County, Who::Supervisor, Who::SysAdmin, Who::SecAdmin, Who::Auditor];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Inside,
    Outside,
}

/// What a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// It reached the use case (an answer, a redirect after success, or a validation error).
    Allowed,
    /// Refused: 403, or 404 for a single record outside the scope.
    Denied,
    /// Sent to sign in: a redirect to the login page, or 401.
    SignIn,
}

/// Who may use a route, inside and outside their scope.
struct Rule {
    allowed: &'static [Who],
    /// Whether the route reaches outside the actor's subtree too (reading public divisions).
    global: bool,
}

const PUBLIC: Rule = Rule { allowed: &EVERYONE, global: true };
const ALL_ACCOUNTS: Rule = Rule { allowed: &ACCOUNTS, global: true };

/// The expectations, one per route. A route missing here fails the test.
fn expected() -> HashMap<(Method, &'static str), Rule> {
    use Who::*;
    let mut m = HashMap::new();
    let mut put = |method: Method, path: &'static str, rule: Rule| {
        m.insert((method, path), rule);
    };
    put(Method::GET, "/", ALL_ACCOUNTS);
    put(Method::GET, "/login", PUBLIC);
    put(Method::POST, "/login", PUBLIC);
    put(Method::POST, "/login/factor", PUBLIC);
    put(Method::GET, "/account/factor", ALL_ACCOUNTS);
    put(Method::POST, "/account/factor", ALL_ACCOUNTS);
    put(Method::POST, "/logout", ALL_ACCOUNTS);
    put(Method::GET, "/lang", PUBLIC);
    put(Method::GET, "/orgs", ALL_ACCOUNTS);
    put(Method::GET, "/orgs/search", ALL_ACCOUNTS);
    put(Method::GET, "/orgs/tree", ALL_ACCOUNTS);
    put(Method::GET, "/orgs/suggest", ALL_ACCOUNTS);
    put(Method::GET, "/orgs/{code}", ALL_ACCOUNTS);
    put(Method::GET, "/account", ALL_ACCOUNTS);
    put(Method::GET, "/account/password", ALL_ACCOUNTS);
    put(Method::POST, "/account/password", ALL_ACCOUNTS);
    put(Method::GET, "/admin/accounts", Rule { allowed: &[SysAdmin, SecAdmin], global: true });
    put(Method::GET, "/admin/accounts/new", Rule { allowed: &[SysAdmin], global: true });
    put(Method::POST, "/admin/accounts", Rule { allowed: &[SysAdmin], global: false });
    put(Method::GET, "/admin/accounts/{id}", Rule { allowed: &[SysAdmin, SecAdmin], global: false });
    put(Method::POST, "/admin/accounts/{id}", Rule { allowed: &[SysAdmin], global: false });
    put(Method::GET, "/admin/tokens", Rule { allowed: &[SecAdmin], global: true });
    put(Method::GET, "/admin/policy", Rule { allowed: &[SecAdmin], global: true });
    put(Method::POST, "/admin/policy", Rule { allowed: &[SecAdmin], global: true });
    put(Method::GET, "/admin/codes", Rule { allowed: &[SysAdmin], global: true });
    put(Method::POST, "/admin/codes", Rule { allowed: &[SysAdmin], global: true });
    put(Method::POST, "/admin/tokens", Rule { allowed: &[SecAdmin], global: false });
    put(Method::POST, "/admin/tokens/{id}/revoke", Rule { allowed: &[SecAdmin], global: false });
    put(Method::GET, "/audit", Rule { allowed: &[Auditor], global: false });
    put(Method::GET, "/audit/export.csv", Rule { allowed: &[Auditor], global: false });
    put(Method::GET, "/api/v1/openapi.json", PUBLIC);
    put(Method::GET, "/api/v1/org-units", ALL_ACCOUNTS);
    put(Method::GET, "/api/v1/org-units/{code}", ALL_ACCOUNTS);
    put(Method::POST, "/api/v1/session", PUBLIC);
    put(
        Method::GET,
        "/api/v1/session",
        Rule { allowed: &[Clerk, Township, County, Supervisor, SysAdmin, SecAdmin, Auditor, Department], global: true },
    );
    put(
        Method::DELETE,
        "/api/v1/session",
        Rule { allowed: &[Clerk, Township, County, Supervisor, SysAdmin, SecAdmin, Auditor, Department], global: true },
    );
    // Personal records: readers and writers of the residence side, within their scope.
    const READERS: &[Who] = &[Clerk, Township, County, Supervisor];
    const WRITERS: &[Who] = &[Clerk, Township, County];
    put(Method::GET, "/persons", Rule { allowed: READERS, global: false });
    put(Method::GET, "/persons/new", Rule { allowed: WRITERS, global: true });
    put(Method::GET, "/quality", Rule { allowed: READERS, global: false });
    put(Method::GET, "/persons/roster", Rule { allowed: READERS, global: false });
    put(Method::GET, "/persons/roster.csv", Rule { allowed: READERS, global: false });
    put(Method::GET, "/persons/roster.xlsx", Rule { allowed: READERS, global: false });
    put(Method::POST, "/persons", Rule { allowed: WRITERS, global: false });
    put(Method::GET, "/persons/check-id", Rule { allowed: WRITERS, global: true });
    // Breaking the glass is for records outside the scope: every reader, anywhere.
    put(Method::POST, "/persons/glass", Rule { allowed: READERS, global: true });
    put(Method::GET, "/persons/{id}", Rule { allowed: READERS, global: false });
    put(Method::GET, "/persons/{id}/edit", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/persons/{id}/edit", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/persons/{id}/end", Rule { allowed: WRITERS, global: false });
    put(Method::GET, "/api/v1/persons", Rule { allowed: READERS, global: false });
    put(Method::POST, "/api/v1/persons", Rule { allowed: WRITERS, global: false });
    put(Method::GET, "/api/v1/persons/{id}", Rule { allowed: READERS, global: false });
    put(Method::PUT, "/api/v1/persons/{id}", Rule { allowed: WRITERS, global: false });
    put(Method::GET, "/api/v1/persons/{id}/history", Rule { allowed: READERS, global: false });
    put(Method::POST, "/api/v1/persons/{id}/moves", Rule { allowed: WRITERS, global: false });
    for section in ["marriages", "children", "pregnancies", "checks", "services", "certificates"] {
        let path: &'static str = Box::leak(format!("/api/v1/persons/{{id}}/{section}").into_boxed_str());
        put(Method::GET, path, Rule { allowed: READERS, global: false });
        put(Method::POST, path, Rule { allowed: WRITERS, global: false });
    }
    put(Method::PUT, "/api/v1/persons/{id}/pregnancies/{pregnancy}", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/persons/{id}/entries", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/persons/{id}/pregnancies/{pregnancy}/close", Rule { allowed: WRITERS, global: false });
    // Exchange: readers see the items of their area; only county operators send and answer.
    const OPERATORS: &[Who] = &[County];
    put(Method::GET, "/exchange", Rule { allowed: READERS, global: true });
    put(Method::POST, "/exchange", Rule { allowed: OPERATORS, global: false });
    put(Method::GET, "/exchange/new", Rule { allowed: OPERATORS, global: true });
    put(Method::GET, "/exchange/stats", Rule { allowed: READERS, global: false });
    put(Method::GET, "/exchange/notifications", Rule { allowed: &[County, Supervisor], global: true });
    put(Method::GET, "/exchange/{id}", Rule { allowed: READERS, global: false });
    put(Method::POST, "/exchange/{id}/submit", Rule { allowed: OPERATORS, global: false });
    put(Method::POST, "/exchange/{id}/answer", Rule { allowed: OPERATORS, global: false });
    put(Method::POST, "/exchange/{id}/remind", Rule { allowed: &[County, Supervisor], global: false });
    put(Method::POST, "/exchange/{id}/facts", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/exchange/{id}/withdraw", Rule { allowed: OPERATORS, global: false });
    put(Method::GET, "/admin/calendar", Rule { allowed: &[SysAdmin], global: true });
    put(Method::POST, "/admin/calendar", Rule { allowed: &[SysAdmin], global: true });
    put(Method::GET, "/api/v1/exchange/items", Rule { allowed: READERS, global: true });
    put(Method::POST, "/api/v1/exchange/items", Rule { allowed: OPERATORS, global: false });
    put(Method::GET, "/api/v1/exchange/items/{id}", Rule { allowed: READERS, global: false });
    put(Method::POST, "/api/v1/exchange/items/{id}/submit", Rule { allowed: OPERATORS, global: false });
    put(Method::POST, "/api/v1/exchange/items/{id}/receive", Rule { allowed: OPERATORS, global: false });
    put(Method::POST, "/api/v1/exchange/items/{id}/answer", Rule { allowed: OPERATORS, global: false });
    put(Method::POST, "/api/v1/exchange/items/{id}/remind", Rule { allowed: &[County, Supervisor], global: false });
    put(Method::GET, "/api/v1/exchange/stats", Rule { allowed: READERS, global: false });
    put(Method::GET, "/api/v1/exchange/ranking", Rule { allowed: &[County, Supervisor], global: false });
    // The clerk's day: everyone with work (records, exchange or supervision) marks its own unit's tasks.
    put(Method::POST, "/worklist/mark", Rule { allowed: READERS, global: true });
    put(Method::GET, "/api/v1/worklist", Rule { allowed: READERS, global: true });
    put(Method::POST, "/api/v1/worklist/marks", Rule { allowed: READERS, global: true });
    // Supervision: monitoring and performance for supervisors and county operators in their
    // subtree; reminders in bulk for supervisors; orders opened from above, answered below.
    const WATCHERS: &[Who] = &[County, Supervisor];
    for path in ["/supervision", "/supervision/items", "/supervision/performance", "/supervision/bulletin"] {
        put(Method::GET, path, Rule { allowed: WATCHERS, global: false });
    }
    put(Method::GET, "/api/v1/supervision/units", Rule { allowed: WATCHERS, global: false });
    put(Method::POST, "/supervision/reminders", Rule { allowed: &[Supervisor], global: false });
    put(Method::GET, "/orders", Rule { allowed: READERS, global: true });
    put(Method::GET, "/api/v1/orders", Rule { allowed: READERS, global: true });
    put(Method::GET, "/orders/new", Rule { allowed: WATCHERS, global: true });
    put(Method::POST, "/orders", Rule { allowed: WATCHERS, global: false });
    put(Method::POST, "/api/v1/orders", Rule { allowed: WATCHERS, global: false });
    put(Method::GET, "/orders/{id}", Rule { allowed: READERS, global: false });
    put(Method::GET, "/api/v1/orders/{id}", Rule { allowed: READERS, global: false });
    put(Method::POST, "/orders/{id}/answer", Rule { allowed: WRITERS, global: false });
    put(Method::POST, "/api/v1/orders/{id}/answer", Rule { allowed: WRITERS, global: false });
    for path in ["/orders/{id}/close", "/orders/{id}/reopen", "/api/v1/orders/{id}/close", "/api/v1/orders/{id}/reopen"]
    {
        put(Method::POST, path, Rule { allowed: WATCHERS, global: false });
    }
    // Reports: every reader, for the subtree it asks about; the list of tables is the same for all.
    put(Method::GET, "/reports", Rule { allowed: READERS, global: true });
    put(Method::GET, "/api/v1/reports", Rule { allowed: READERS, global: true });
    put(Method::GET, "/reports/snapshots", Rule { allowed: READERS, global: false });
    put(Method::GET, "/reports/{id}", Rule { allowed: READERS, global: false });
    put(Method::GET, "/api/v1/reports/{id}", Rule { allowed: READERS, global: false });
    put(Method::GET, "/assets/{name}", PUBLIC);
    put(Method::GET, "/healthz", PUBLIC);
    m
}

/// How an actor is represented in a request.
enum Credential {
    Session(Session),
    Bearer(String),
    None,
}

struct World {
    app: App,
    /// A person managed in 新苑社区 (inside every Bincheng actor's scope) and one managed in
    /// 平昌县 and registered in 临泉县 (outside every demo actor's scope).
    person_inside: i64,
    person_outside: i64,
    pregnancy_inside: i64,
    pregnancy_outside: i64,
    creds: HashMap<Who, Credential>,
    counter: u32,
    token_inside: i64,
    token_outside: i64,
    item_inside: i64,
    item_outside: i64,
    order_inside: i64,
    order_outside: i64,
}

/// The numbers of the privacy scan: hers (born 1990-01-01 in 平昌县), her husband's, her child's.
const INSIDE_ID: &str = "511923199001010020";
const INSIDE_PHONE: &str = "13800138000";
const SPOUSE_ID: &str = "430582198802020037";
const CHILD_ID: &str = "430582201506010015";

fn username(who: Who) -> &'static str {
    match who {
        Who::Clerk => "clerk",
        Who::Township => "township",
        Who::County => "county",
        Who::Supervisor => "supervisor",
        Who::SysAdmin => "sysadmin",
        Who::SecAdmin => "secadmin",
        Who::Auditor => "auditor",
        Who::Department | Who::Anonymous => "",
    }
}

/// The actor's own unit (inside) and a unit of another province (outside every demo subtree).
fn unit(who: Who, scope: Scope) -> &'static str {
    if scope == Scope::Outside {
        return "511923";
    }
    match who {
        Who::Clerk => "371602001001",
        Who::Township => "371602001",
        Who::County | Who::Department => "371602",
        Who::Supervisor => "3716",
        _ => "37",
    }
}

impl World {
    async fn new() -> (World, crate::helpers::TestDb) {
        let (app, db) = demo_app().await;
        let console = qipan::service::Actor::console(domain::OrgCode::parse("00").unwrap());
        let (_, secret) =
            app.create_api_token(&console, "matrix", &domain::OrgCode::parse("371602").unwrap(), 365).await.unwrap();
        let (token_inside, _) =
            app.create_api_token(&console, "inside", &domain::OrgCode::parse("371602").unwrap(), 365).await.unwrap();
        let (token_outside, _) =
            app.create_api_token(&console, "outside", &domain::OrgCode::parse("511923").unwrap(), 365).await.unwrap();
        let mut creds = HashMap::new();
        for who in ACCOUNTS {
            creds.insert(who, Credential::Session(demo_login(&app, username(who)).await));
        }
        creds.insert(Who::Department, Credential::Bearer(secret));
        creds.insert(Who::Anonymous, Credential::None);
        let person = |managing: &str, hukou: &str| domain::record::PersonInput {
            name: "测试".into(),
            gender: "2".into(),
            birth_date: "1990-01-01".into(),
            hukou_area: hukou.into(),
            hukou_address: "某村".into(),
            residence_area: managing.into(),
            residence_address: "某路".into(),
            managing_unit: managing.into(),
            direction: "in".into(),
            moved_on: "2026-01-01".into(),
            ..Default::default()
        };
        // Both carry an ID number and a mobile number, so that the privacy scan has something to
        // find; the one inside is registered in 平昌县, whose operator reads it as its origin.
        let with_numbers = |mut p: domain::record::PersonInput, id: &str, phone: &str| {
            p.id_number = id.into();
            p.phone = phone.into();
            p
        };
        let inside = with_numbers(person("371602001001", "511923"), INSIDE_ID, INSIDE_PHONE);
        let person_inside = app.register_person(&console, &inside).await.unwrap();
        let outside = with_numbers(person("511923", "341221"), "341221199001010044", "13900139000");
        let person_outside = app.register_person(&console, &outside).await.unwrap();
        // Her history, her husband's and her child's numbers: in the history and the sections.
        let mut moved = inside.clone();
        moved.phone = "13700137000".into();
        app.edit_person(&console, person_inside, Some(1), &moved).await.unwrap();
        let entry = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let marriage = entry(&[("married_on", "2015-01-01"), ("spouse_name", "王强"), ("spouse_id_number", SPOUSE_ID)]);
        app.add_entry(&console, person_inside, domain::sections::Section::Marriages, &marriage).await.unwrap();
        let child =
            entry(&[("name", "王小明"), ("gender", "1"), ("birth_date", "2015-06-01"), ("id_number", CHILD_ID)]);
        app.add_entry(&console, person_inside, domain::sections::Section::Children, &child).await.unwrap();
        let pregnancy: std::collections::BTreeMap<String, String> =
            [("detected_on".to_owned(), "2026-09-01".to_owned())].into();
        let pregnancy_inside =
            app.add_entry(&console, person_inside, domain::sections::Section::Pregnancies, &pregnancy).await.unwrap();
        let pregnancy_outside =
            app.add_entry(&console, person_outside, domain::sections::Section::Pregnancies, &pregnancy).await.unwrap();
        // Drafts about each person (drafts need no village-level address; sending them does).
        let draft = |person_id| qipan::service::exchange::ItemRequest {
            kind: "verification".into(),
            person_id,
            categories: vec!["basic".into()],
            ..Default::default()
        };
        let item_inside = app.create_exchange_item(&console, &draft(person_inside)).await.unwrap();
        let item_outside = app.create_exchange_item(&console, &draft(person_outside)).await.unwrap();
        // An order from 滨州市 on 新苑社区, and one from 平昌县 on one of its townships.
        let order = |target: &str| qipan::service::supervision::OrderRequest {
            target: target.into(),
            subject_kind: "free".into(),
            subject_ref: String::new(),
            title: "核实流入人口登记".into(),
            body: "请核实本月新登记的流入人口".into(),
            due_on: (app.clock.today() + chrono::Duration::days(7)).to_string(),
        };
        let supervisor = app.login("supervisor", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
        let pingchang = app.login("pingchang", qipan::demo::DEMO_PASSWORD, None).await.unwrap().actor;
        // Someone typed her number into the order: readers see it masked.
        let mut typed = order("371602001001");
        typed.body = format!("请核实 {INSIDE_ID}（电话 {INSIDE_PHONE}）的登记");
        let order_inside = app.open_order(&supervisor, &typed).await.unwrap();
        // An audit entry from before details were scrubbed when written, holding her number.
        let old = store::AuditDraft {
            at: app.clock.now(),
            actor_id: None,
            actor_name: "clerk".into(),
            action: "person.search".into(),
            org_code: Some("371602001001".into()),
            target: None,
            detail: format!(r#"{{"q":"{INSIDE_ID}"}}"#),
            address: None,
        };
        app.store.append_audit(&old).await.unwrap();
        let order_outside = app.open_order(&pingchang, &order("511923001")).await.unwrap();
        let world = World {
            order_inside,
            order_outside,
            item_inside,
            item_outside,
            app,
            person_inside,
            person_outside,
            pregnancy_inside,
            pregnancy_outside,
            creds,
            counter: 0,
            token_inside,
            token_outside,
        };
        (world, db)
    }

    /// A target account for `/admin/accounts/{id}`: one in the actor's unit, or in Sichuan.
    async fn target_account(&self, who: Who, scope: Scope) -> (i64, i32) {
        let name = match (who, scope) {
            (_, Scope::Outside) => "pingchang",
            (Who::Clerk, _) => "clerk",
            (Who::Township, _) => "township",
            (Who::Supervisor, _) => "supervisor",
            _ => "county",
        };
        let a = self.app.store.account_by_username(name).await.unwrap().unwrap();
        (a.id, a.version)
    }

    /// The concrete request for a route, actor and scope.
    async fn request(&mut self, method: &Method, path: &str, who: Who, scope: Scope) -> Request<Body> {
        self.counter += 1;
        let unit = unit(who, scope);
        let mut form: Vec<(String, String)> = Vec::new();
        let concrete = match path {
            "/orgs/{code}" | "/api/v1/org-units/{code}" => path.replace("{code}", unit),
            "/orgs/tree" => format!("/orgs/tree?parent={unit}"),
            "/orgs/suggest" => format!("/orgs/suggest?q={unit}"),
            "/api/v1/org-units" => format!("/api/v1/org-units?parent={unit}"),
            "/audit" | "/audit/export.csv" => format!("{path}?unit={unit}"),
            "/persons"
            | "/api/v1/persons"
            | "/persons/roster"
            | "/persons/roster.csv"
            | "/persons/roster.xlsx"
            | "/quality"
                if *method == Method::GET =>
            {
                format!("{path}?unit={unit}")
            }
            "/persons/check-id" => "/persons/check-id?id_number=11010519491231002X".to_owned(),
            "/exchange/stats" | "/api/v1/exchange/stats" => format!("{path}?unit={unit}"),
            "/reports" | "/reports/snapshots" | "/api/v1/reports" => format!("{path}?unit={unit}"),
            "/reports/{id}" | "/api/v1/reports/{id}" => format!("{}?unit={unit}", path.replace("{id}", "inflow")),
            "/supervision" | "/supervision/performance" => format!("{path}?unit={unit}"),
            "/supervision/items" => format!("{path}?unit={unit}&part=waiting"),
            "/api/v1/supervision/units" => format!("{path}?parent={unit}"),
            "/supervision/bulletin" => format!("{path}?province={unit}"),
            "/supervision/reminders" => {
                form = vec![
                    ("unit".into(), unit.into()),
                    ("cycle".into(), "2026-03".into()),
                    ("threshold".into(), "95".into()),
                ];
                path.to_owned()
            }
            "/orders" if *method == Method::POST => {
                form = vec![
                    ("target".into(), unit.into()),
                    ("kind".into(), "free".into()),
                    ("title".into(), "x".into()),
                    ("body".into(), "y".into()),
                    ("due_on".into(), (self.app.clock.today() + chrono::Duration::days(7)).to_string()),
                ];
                path.to_owned()
            }
            p if p.starts_with("/orders/{id}") || p.starts_with("/api/v1/orders/{id}") => {
                let id = if scope == Scope::Inside { self.order_inside } else { self.order_outside };
                form = vec![("answer".into(), String::new()), ("note".into(), String::new())];
                p.replace("{id}", &id.to_string())
            }
            "/worklist/mark" => {
                form = vec![("key".into(), format!("prenatal:{}:2026-12-01", self.person_inside))];
                path.to_owned()
            }
            "/api/v1/exchange/ranking" => format!("{path}?province={unit}"),
            "/exchange" if *method == Method::POST => {
                let id = if scope == Scope::Inside { self.person_inside } else { self.person_outside };
                form = vec![
                    ("person_id".into(), id.to_string()),
                    ("kind".into(), "verification".into()),
                    ("categories".into(), "basic".into()),
                    ("action".into(), "draft".into()),
                ];
                path.to_owned()
            }
            p if p.starts_with("/exchange/{id}") || p.starts_with("/api/v1/exchange/items/{id}") => {
                let id = if scope == Scope::Inside { self.item_inside } else { self.item_outside };
                // An empty reason keeps the draft: the withdrawal is refused as invalid.
                form = vec![("note".into(), String::new()), ("found".into(), "no".into())];
                p.replace("{id}", &id.to_string())
            }
            p if p.starts_with("/persons/{id}") || p.starts_with("/api/v1/persons/{id}") => {
                let id = if scope == Scope::Inside { self.person_inside } else { self.person_outside };
                let version = self.app.store.person(id).await.unwrap().unwrap().version;
                // An edit keeps the record where it is managed.
                let home = if scope == Scope::Inside { "371602001001" } else { "511923" };
                let body = self.person_body(home, version);
                if (p.ends_with("/edit") && *method == Method::POST) || *method == Method::PUT {
                    form = body;
                } else if p.ends_with("/end") {
                    // An unknown status: reaches the use case, changes nothing.
                    form = vec![("status".into(), "bogus".into()), ("version".into(), version.to_string())];
                } else if p.ends_with("/entries") {
                    // A check without its date: reaches the use case, is refused field by field.
                    form = vec![("section".into(), "checks".into()), ("kind".into(), "iud".into())];
                } else if p.contains("{pregnancy}") {
                    form = vec![("outcome".into(), "bogus".into()), ("ended_on".into(), "2026-10-01".into())];
                }
                let pregnancy = if scope == Scope::Inside { self.pregnancy_inside } else { self.pregnancy_outside };
                p.replace("{id}", &id.to_string()).replace("{pregnancy}", &pregnancy.to_string())
            }
            "/persons" | "/api/v1/persons" if *method == Method::POST => {
                form = self.person_body(unit, 0);
                path.to_owned()
            }
            "/assets/{name}" => "/assets/qipan.css".to_owned(),
            "/lang" => "/lang?set=en&next=/".to_owned(),
            "/admin/accounts/{id}" => {
                let (id, version) = self.target_account(who, scope).await;
                form = vec![
                    ("action".into(), "rename".into()),
                    ("version".into(), version.to_string()),
                    ("display_name".into(), format!("改名{}", self.counter)),
                ];
                format!("/admin/accounts/{id}")
            }
            "/admin/accounts" if *method == Method::POST => {
                form = vec![("username".into(), format!("matrix{}", self.counter)), ("unit".into(), unit.into())];
                path.to_owned()
            }
            "/admin/codes" if *method == Method::POST => {
                let active = if self.counter.is_multiple_of(2) { "activate" } else { "deactivate" };
                form = vec![
                    ("action".into(), active.into()),
                    ("table".into(), "relationship".into()),
                    ("code".into(), "01".into()),
                ];
                path.to_owned()
            }
            "/admin/tokens" if *method == Method::POST => {
                form = vec![("name".into(), format!("令牌{}", self.counter)), ("unit".into(), unit.into())];
                path.to_owned()
            }
            "/admin/policy" if *method == Method::POST => {
                // The defaults, administrators' factor optional as in the demo: changes nothing.
                form = vec![
                    ("min_chars".into(), "10".into()),
                    ("min_classes".into(), "3".into()),
                    ("history".into(), "5".into()),
                    ("max_age_days".into(), "90".into()),
                ];
                path.to_owned()
            }
            "/admin/tokens/{id}/revoke" => {
                let id = if scope == Scope::Inside { self.token_inside } else { self.token_outside };
                path.replace("{id}", &id.to_string())
            }
            "/account/password" if *method == Method::POST => {
                // A wrong current password: reaches the use case, changes nothing.
                form = vec![
                    ("current".into(), "Not-my-password-1".into()),
                    ("new".into(), "Whatever-new-1".into()),
                    ("confirm".into(), "Whatever-new-1".into()),
                ];
                path.to_owned()
            }
            "/login" if *method == Method::POST => {
                form = vec![("username".into(), "nobody".into()), ("password".into(), "Wrong-password-1".into())];
                path.to_owned()
            }
            other => other.to_owned(),
        };
        let mut req = Request::builder().method(method.clone()).uri(&concrete);
        let mut cookies = Vec::new();
        match &self.creds[&who] {
            Credential::Session(s) => {
                cookies.push(s.cookie.clone());
                req = req.header("x-csrf-token", &s.csrf);
            }
            Credential::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Credential::None => {}
        }
        if matches!(path, "/login" | "/login/factor") && *method == Method::POST {
            // The login form's own token, as a browser that loaded the form would send it.
            cookies.push("qipan_login_csrf=matrix".to_owned());
            form.push(("_csrf".into(), "matrix".into()));
        }
        if !cookies.is_empty() {
            req = req.header(header::COOKIE, cookies.join("; "));
        }
        if path.starts_with("/api/v1/persons") && *method != Method::GET {
            let mut body: serde_json::Map<String, serde_json::Value> =
                form.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
            if let Some(v) = body.get("version").and_then(|v| v.as_str()).and_then(|v| v.parse::<i64>().ok()) {
                body.insert("version".into(), v.into());
            }
            if path.contains("{pregnancy}") {
                body = serde_json::json!({"outcome": "bogus", "ended_on": "2026-10-01"}).as_object().unwrap().clone();
            } else if ["/marriages", "/children", "/pregnancies", "/checks", "/services", "/certificates"]
                .iter()
                .any(|s| path.ends_with(s))
            {
                body = serde_json::Map::new();
            }
            if path.ends_with("/moves") {
                let id = if scope == Scope::Inside { self.person_inside } else { self.person_outside };
                let version = self.app.store.person(id).await.unwrap().unwrap().version;
                body = serde_json::json!({"status": "bogus", "version": version}).as_object().unwrap().clone();
            }
            let body = serde_json::Value::Object(body).to_string();
            return req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap();
        }
        if path.starts_with("/api/v1/orders") && *method == Method::POST {
            let body = if path == "/api/v1/orders" {
                serde_json::json!({"target_unit": unit, "title": "x", "body": "y",
                    "due_on": (self.app.clock.today() + chrono::Duration::days(7)).to_string()})
            } else {
                serde_json::json!({"answer": "", "note": ""})
            };
            return req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap();
        }
        if path == "/api/v1/worklist/marks" {
            let body = serde_json::json!({"key": format!("prenatal:{}:2026-12-01", self.person_inside)});
            return req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap();
        }
        if path.starts_with("/api/v1/exchange/items") && *method == Method::POST {
            let body = if path == "/api/v1/exchange/items" {
                let id = if scope == Scope::Inside { self.person_inside } else { self.person_outside };
                serde_json::json!({"kind": "verification", "person_id": id, "categories": ["basic"], "submit": false})
            } else {
                serde_json::json!({"found": false, "remarks": "", "note": ""})
            };
            return req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap();
        }
        if path == "/api/v1/session" && *method == Method::POST {
            let body = serde_json::json!({"username": "nobody", "password": "Wrong-password-1"}).to_string();
            return req.header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap();
        }
        if *method == Method::POST {
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            return req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
        }
        req.body(Body::empty()).unwrap()
    }

    /// A valid record managed in `unit` (no ID number, so that it is never a duplicate).
    fn person_body(&self, unit: &str, version: i32) -> Vec<(String, String)> {
        [
            ("name", format!("矩阵{}", "甲乙丙丁戊己庚辛壬癸".chars().nth(self.counter as usize % 10).unwrap())),
            ("gender", "1".into()),
            ("birth_date", "1985-05-05".into()),
            ("hukou_area", "430582".into()),
            ("hukou_address", "邵东市某村".into()),
            ("residence_area", unit.into()),
            ("residence_address", "某路1号".into()),
            ("managing_unit", unit.into()),
            ("direction", "in".into()),
            ("moved_on", "2026-02-01".into()),
            ("version", version.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// After a request that signs out, sign in again so that later requests have a session.
    async fn refresh(&mut self, who: Who) {
        if ACCOUNTS.contains(&who) {
            self.creds.insert(who, Credential::Session(demo_login(&self.app, username(who)).await));
        }
    }
}

fn classify(method: &Method, path: &str, reply: &Reply) -> Outcome {
    let to_login = reply.location().starts_with("/login");
    match reply.status {
        // A failed sign-in attempt is the answer of the sign-in routes themselves.
        StatusCode::UNAUTHORIZED
            if *method == Method::POST && matches!(path, "/login" | "/login/factor" | "/api/v1/session") =>
        {
            Outcome::Allowed
        }
        StatusCode::UNAUTHORIZED => Outcome::SignIn,
        // Signing out ends on the login page itself; being sent to sign in carries `next`.
        s if s.is_redirection() && to_login && (path != "/logout" || reply.location().contains("next=")) => {
            Outcome::SignIn
        }
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => Outcome::Denied,
        s if s.is_server_error() => panic!("{path}: {s} {}", reply.body),
        _ => Outcome::Allowed,
    }
}

#[tokio::test]
async fn every_route_for_every_role_inside_and_outside_its_scope() {
    let (mut world, _db) = World::new().await;
    let rules = expected();
    let routes = qipan::web::route_list();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, path) in &routes {
        let Some(rule) = rules.get(&(method.clone(), *path)) else {
            failures.push(format!("{method} {path}: no expectation written for this route"));
            continue;
        };
        for who in EVERYONE {
            for scope in [Scope::Inside, Scope::Outside] {
                let req = world.request(method, path, who, scope).await;
                let reply = send(&world.app, req).await;
                let got = classify(method, path, &reply);
                let want = if who == Who::Anonymous && !rule.allowed.contains(&Who::Anonymous) {
                    Outcome::SignIn
                } else if rule.allowed.contains(&who) && (scope == Scope::Inside || rule.global) {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                };
                checked += 1;
                if got != want {
                    failures.push(format!(
                        "{method} {path} as {who:?} ({scope:?}): expected {want:?}, got {got:?} ({})",
                        reply.status
                    ));
                }
                if matches!(*path, "/logout" | "/api/v1/session") && *method != Method::GET {
                    world.refresh(who).await;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {checked} checks failed:\n{}", failures.len(), failures.join("\n"));
    assert!(checked >= routes.len() * 18);
    assert_eq!(rules.len(), routes.len(), "an expectation is written for a route that no longer exists");
}

#[tokio::test]
async fn denials_are_audited() {
    let (world, _db) = World::new().await;
    let Credential::Session(clerk) = &world.creds[&Who::Clerk] else { unreachable!() };
    let reply = crate::helpers::get(&world.app, "/admin/accounts", Some(clerk)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let filter = store::AuditFilter {
        actor: Some("clerk".into()),
        action_prefix: Some("access.denied".into()),
        ..Default::default()
    };
    let (rows, _) = world.app.store.search_audit(&filter, store::Page { number: 1, size: 10 }).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].entry.detail.contains("account.admin"), "{}", rows[0].entry.detail);
}

/// Whole ID numbers (18 characters passing the GB 11643 check) and mainland mobile numbers
/// (11 digits, 13x–19x) in a text, each standing alone (not part of a longer run of digits).
/// Written here, independently of the masking code it checks.
fn personal_numbers(text: &str) -> Vec<String> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(|c| c.is_ascii_digit());
    // Hashes and tokens (32 hex characters or more) hold runs of digits that are no one's number.
    let mut in_hex = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        let len = chars[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        if len >= 32 {
            in_hex[i..i + len].iter_mut().for_each(|h| *h = true);
        }
        i += len.max(1);
    }
    let mut found = Vec::new();
    for start in 0..chars.len() {
        if start > 0 && digit(start - 1) || !digit(start) || in_hex[start] {
            continue;
        }
        let run = (start..chars.len()).take_while(|&i| digit(i)).count();
        if run == 17 && matches!(chars.get(start + 17), Some('X' | 'x')) || run == 18 {
            let id: String = chars[start..start + 18].iter().collect();
            let sum: u32 = id.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
            let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
            if id.ends_with(check) || id.ends_with(check.to_ascii_lowercase()) {
                found.push(id);
            }
        } else if run == 11 && chars[start] == '1' && ('3'..='9').contains(&chars[start + 1]) {
            found.push(chars[start..start + 11].iter().collect());
        }
    }
    found
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let page = format!("<td>{INSIDE_ID}</td> tel:{INSIDE_PHONE}; {{\"c\":\"{CHILD_ID}\"}}");
    assert_eq!(personal_numbers(&page), [INSIDE_ID, INSIDE_PHONE, CHILD_ID]);
    let hash = "9f1c13932820737ab02d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7";
    for clean in ["511***********0020", "138****8000", "371602001001", "2026-11-25", "511923199001010021", hash] {
        assert!(personal_numbers(clean).is_empty(), "{clean}");
    }
}

/// The text of a response: a spreadsheet is unpacked, everything else read as it is.
async fn body_text(app: &App, req: Request<Body>) -> (StatusCode, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = qipan::web::router(app.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    if bytes.starts_with(b"PK") {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a spreadsheet");
        let mut all = String::new();
        for i in 0..zip.len() {
            std::io::Read::read_to_string(&mut zip.by_index(i).unwrap(), &mut all).unwrap();
        }
        return (status, all);
    }
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn read_only_actors_never_see_a_whole_id_number_or_mobile_number() {
    let (mut world, _db) = World::new().await;
    // Someone who may write types her whole number into the search box: the audit entry of that
    // search is read by the auditor below.
    let Credential::Session(clerk) = &world.creds[&Who::Clerk] else { unreachable!() };
    let found = crate::helpers::get(&world.app, &format!("/api/v1/persons?q={INSIDE_ID}"), Some(clerk)).await;
    assert_eq!(found.json()["total"], 1, "the clerk finds her by her number");
    // The clerk sees her whole record: the scan below would find the numbers if they leaked.
    let full = crate::helpers::get(&world.app, &format!("/api/v1/persons/{}", world.person_inside), Some(clerk)).await;
    assert_eq!(personal_numbers(&full.body), [INSIDE_ID, "13700137000"], "{}", full.body);
    let history = format!("/api/v1/persons/{}/history", world.person_inside);
    let history = crate::helpers::get(&world.app, &history, Some(clerk)).await.body;
    assert!(personal_numbers(&history).contains(&INSIDE_PHONE.to_owned()), "the writer sees the history whole");

    let pingchang = demo_login(&world.app, "pingchang").await;
    let readers = [Who::Supervisor, Who::SysAdmin, Who::SecAdmin, Who::Auditor, Who::Department, Who::Anonymous];
    let mut leaks = Vec::new();
    let mut read = 0;
    // The second pass puts 平昌县's operator, her origin, in the county's place: it reads her
    // record as the county of household registration.
    for origin_pass in [false, true] {
        let who_list: Vec<Who> = if origin_pass { vec![Who::County] } else { readers.to_vec() };
        if origin_pass {
            world.creds.insert(Who::County, Credential::Session(pingchang.clone()));
        }
        for (method, path) in qipan::web::route_list() {
            for &who in &who_list {
                // 平昌县 manages the record outside: its own, seen whole by right.
                let scopes: &[Scope] = if origin_pass { &[Scope::Inside] } else { &[Scope::Inside, Scope::Outside] };
                for &scope in scopes {
                    let req = world.request(&method, path, who, scope).await;
                    let uri = req.uri().to_string();
                    let (status, text) = body_text(&world.app, req).await;
                    if status.is_success() {
                        read += 1;
                    }
                    // A number the request itself carries (a form that shows what was typed) is
                    // not disclosed by the answer.
                    let numbers: Vec<String> =
                        personal_numbers(&text).into_iter().filter(|n| !uri.contains(n.as_str())).collect();
                    if !numbers.is_empty() {
                        let who = if origin_pass { "pingchang".to_owned() } else { format!("{who:?}") };
                        leaks.push(format!("{method} {uri} as {who}: {numbers:?}"));
                    }
                    if matches!(path, "/logout" | "/api/v1/session") && method != Method::GET {
                        if origin_pass {
                            world
                                .creds
                                .insert(Who::County, Credential::Session(demo_login(&world.app, "pingchang").await));
                        } else {
                            world.refresh(who).await;
                        }
                    }
                }
            }
        }
    }
    assert!(read > 100, "the readers read something: {read} answers");
    assert!(leaks.is_empty(), "{} answers show whole numbers:\n{}", leaks.len(), leaks.join("\n"));
}
