//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, written out by hand
//! (see docs/decisions/0003-openapi-by-hand.md); a test checks it against the live routes.

use axum::Json;
use serde_json::{Value, json};

use crate::service::orgs_limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CHARS};

pub async fn document() -> Json<Value> {
    Json(spec())
}

pub fn spec() -> Value {
    let mut doc = base();
    add_sections(&mut doc);
    add_exchange(&mut doc);
    add_worklist(&mut doc);
    super::supervision::add_openapi(&mut doc);
    super::reports::add_openapi(&mut doc);
    add_limits(&mut doc);
    add_request_errors(&mut doc);
    as_problems(&mut doc);
    doc
}

/// The answers to a request the API cannot take as it is (see `extract`): a body that is not
/// JSON (400) or not sent as JSON (415), any input of the wrong shape or breaking a rule (422), a
/// path naming nothing (404), a change the state refuses (409). A 400 is documented only where
/// there is a body to be malformed.
fn add_request_errors(doc: &mut Value) {
    let error = json!({"$ref": "#/components/responses/Error"});
    let malformed = json!({"description": "The body is not JSON (`malformed`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let media = json!({"description": "The body was not sent as `application/json` (`unsupported_media_type`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let conflict = json!({"description": "The state does not allow it now (`conflict`), the version read is stale (`stale`), or it exists already (`duplicate`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut() {
        let path_params = item.get("parameters").and_then(Value::as_array).is_some_and(|ps| !ps.is_empty());
        for (method, op) in item.as_object_mut().into_iter().flat_map(|o| o.iter_mut()) {
            if !["get", "post", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            let params: Vec<String> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().filter_map(|p| p["in"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
            if has_body {
                responses.insert("400".into(), malformed.clone());
                responses.entry("415").or_insert_with(|| media.clone());
                responses.entry("422").or_insert_with(|| error.clone());
            } else {
                responses.remove("400");
            }
            // A request with any input may break a rule (422); one naming a thing in its path may
            // name nothing (404); one that changes something may meet a state that refuses it (409).
            if !params.is_empty() || path_params || has_body {
                responses.entry("422").or_insert_with(|| error.clone());
            }
            if path_params || params.iter().any(|p| p == "path") {
                responses.entry("404").or_insert_with(|| error.clone());
            }
            if method != "get" && method != "delete" {
                responses.entry("409").or_insert_with(|| conflict.clone());
            }
        }
    }
}

/// Every error answer is an RFC 9457 problem document.
fn as_problems(doc: &mut Value) {
    fn rewrite(response: &mut Value) {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
            && let Some(body) = content.remove("application/json")
        {
            content.insert("application/problem+json".into(), body);
        }
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                for (status, response) in op.get_mut("responses").and_then(Value::as_object_mut).into_iter().flatten() {
                    if status.starts_with('4') || status.starts_with('5') {
                        rewrite(response);
                    }
                }
            }
        }
    }
    if let Some(responses) = doc["components"]["responses"].as_object_mut() {
        responses.values_mut().for_each(rewrite);
    }
}

/// Every operation may be refused by the limits in front of it: 429 (too many requests from
/// the address, or too many exports of the account, with `Retry-After`) and 503 (the server is
/// full, or the answer passed its deadline); and every operation that needs an account answers
/// 403 while the account must first change its password or set up its second factor.
fn add_limits(doc: &mut Value) {
    let limited = json!({"description": "Too many requests from this address (or exports of this account) for now; `Retry-After` says when to try again.", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let unavailable = json!({"description": "The server is answering as many requests as it can, or the answer took too long; try again.", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let first = json!({"description": "Not allowed, or not yet: the account must first change its password (`password_change_required`) or set up a second factor (`factor_required`).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    responses.entry("429").or_insert_with(|| limited.clone());
                    responses.entry("503").or_insert_with(|| unavailable.clone());
                    if responses.contains_key("401") {
                        responses.entry("403").or_insert_with(|| first.clone());
                    }
                }
            }
        }
    }
}

/// The clerk's day (DESIGN §7).
fn add_worklist(doc: &mut Value) {
    let error = json!({"$ref": "#/components/responses/Error"});
    let categories = domain::worklist::Category::ALL.map(|c| c.as_str());
    doc["paths"]["/worklist"] = json!({
        "get": {
            "operationId": "worklist",
            "summary": "The day's work of the actor's unit and everything below it",
            "description": "Each task shows from 5 days before its last day (expected births 4 weeks ahead) and stays while overdue; tasks marked done, or snoozed until a later day, are left out (`hidden` counts them). Overdue first, then urgent, then by last day.",
            "responses": {"200": {"description": "The list.", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "today": {"type": "string", "format": "date"},
                "next_duty_day": {"type": "string", "format": "date"},
                "overdue": {"type": "integer"}, "hidden": {"type": "integer"},
                "total": {"type": "integer", "description": "Tasks in all; `items` lists the first of them (by last day)."},
                "capped": {"type": "array", "items": {"type": "string", "enum": categories}, "description": "Categories counted up to 1,000 only: their count (and the total) means \"at least\"."},
                "waiting": {"type": "integer", "description": "Persons whose records just changed and whose tasks are not derived yet (not counted above)."},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "category": {"type": "string", "enum": categories},
                    "key": {"type": "string"}, "subject": {"type": "string"},
                    "due_on": {"type": "string", "format": "date"}, "overdue": {"type": "boolean"}, "urgent": {"type": "boolean"},
                    "href": {"type": "string", "description": "The page where the task is done."}, "unit": {"type": "string"}
                }}}
            }}}}}, "401": error, "403": error}
        }
    });
    doc["paths"]["/worklist/marks"] = json!({
        "post": {
            "operationId": "markTask",
            "summary": "Mark a task of the actor's unit done, or snooze it until a day (with a reason)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["key"], "properties": {
                "key": {"type": "string"}, "until": {"type": "string", "format": "date"}, "reason": {"type": "string", "maxLength": 200}
            }}}}},
            "responses": {"204": {"description": "Marked."}, "400": error, "401": error, "403": error}
        }
    });
}

/// Information exchange between residence and origin (DESIGN §6).
fn add_exchange(doc: &mut Value) {
    use domain::exchange::{CATEGORIES, NOTIFICATION_REASONS};
    let error = json!({"$ref": "#/components/responses/Error"});
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
    let item = json!({"$ref": "#/components/schemas/ExchangeItem"});
    let date = json!({"type": ["string", "null"], "format": "date"});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let rate = json!({"type": ["number", "null"], "minimum": 0, "maximum": 1});
    doc["components"]["schemas"]["ExchangeItem"] = json!({
        "type": "object",
        "description": "An item between the county of residence and the county of origin. In lists `person_id_number` is masked; reading one item shows it whole (audited) to the operators who send or answer it, masked to everyone who only watches it, with ID and mobile numbers in its texts hidden too. `due_on` is the last day (China time) of what the receiving side owes next: the answer, or for an item only to be received its receipt; a period ends at 24:00 China time and a last day that is not a working day moves to the next working day.",
        "required": ["id", "kind", "urgency", "status", "from_unit", "to_unit", "submitted_at", "due_on", "cycle", "received_at", "answered_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["verification", "notification", "service_info"]},
            "categories": {"type": "array", "items": {"type": "string", "enum": CATEGORIES}},
            "reason": {"type": ["string", "null"], "enum": NOTIFICATION_REASONS.iter().map(|r| Some(*r)).chain([None]).collect::<Vec<_>>()},
            "urgency": {"type": "string", "enum": ["urgent", "normal"], "description": "urgent (紧急): a verification of a currently pregnant key person, answered within 15 days; normal (急): 30 days."},
            "status": {"type": "string", "enum": ["draft", "submitted", "received", "answered", "overdue", "withdrawn"], "description": "`overdue` while an item past its last day waits (see also `received_at`)."},
            "overdue": {"type": "boolean"},
            "person_id": {"type": "integer"},
            "person_name": {"type": "string"},
            "person_id_number": {"type": ["string", "null"]},
            "origin_area": {"type": "string", "description": "Area code of the address at the receiving end (12 digits to be sent)."},
            "from_unit": {"type": "string", "description": "The sending county."},
            "to_unit": {"type": "string", "description": "The receiving county: the county of the person's household registration (for a person who moved in)."},
            "source": {"type": "string", "enum": ["manual", "suggested"]},
            "remarks": {"type": "string"},
            "answer_required": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "submitted_at": time.clone(),
            "due_on": date.clone(),
            "receipt_due_on": date.clone(),
            "calendar_assumed": {"type": "boolean", "description": "A deadline crossed a year the working-day calendar does not hold: Monday–Friday were assumed."},
            "event_on": date.clone(),
            "send_due_on": date.clone(),
            "cycle": {"type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}$", "description": "The submission cycle: submissions close on the 20th."},
            "received_at": time.clone(),
            "answered_at": time.clone(),
            "found": {"type": ["boolean", "null"]},
            "answer_remarks": {"type": ["string", "null"]},
            "search_steps": {"type": "array", "items": {"type": "string", "enum": ["own_records", "manual_ledger", "police"]}},
            "answered_on_time": {"type": ["boolean", "null"]},
            "timeline": {"type": "array", "description": "Only when reading one item.", "items": {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}, "event": {"type": "string", "enum": ["created", "submitted", "received", "answered", "overdue", "send_overdue", "reminded", "facts", "withdrawn"]}, "actor": {"type": "string"}, "unit": {"type": "string"}, "note": {"type": "string"}}}},
            "notifications": {"type": "array", "description": "Only when reading one item: the SMS sent about it and their delivery state.", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "recipient": {"type": "string"}, "channel": {"type": "string"}, "state": {"type": "string", "enum": ["pending", "sent", "failed"]}, "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]}, "next_attempt_at": {"type": "string", "format": "date-time"}, "sent_at": time.clone()}}}
        }
    });
    doc["paths"]["/exchange/items"] = json!({
        "get": {
            "operationId": "listExchangeItems",
            "summary": "The inbox or outbox of the actor's area",
            "description": "Overdue items first, then urgent ones, then by last day.",
            "parameters": [
                {"name": "box", "in": "query", "schema": {"type": "string", "enum": ["inbox", "outbox"], "default": "inbox"}},
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["draft", "submitted", "received", "answered", "overdue", "withdrawn"]}},
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["verification", "notification", "service_info"]}},
                {"name": "cycle", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}},
                {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                {"name": "person_id", "in": "query", "schema": {"type": "integer"}},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
            ],
            "responses": {"200": {"description": "{\"items\": [ExchangeItem], \"total\", \"page\", \"per_page\"}", "content": {"application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array", "items": item.clone()}, "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"}}}}}}, "400": error, "401": error, "403": error}
        },
        "post": {
            "operationId": "createExchangeItem",
            "summary": "Create an item about a person managed in the actor's county (county operators)",
            "description": "The receiving county follows from the person's household registration. With `submit: true` the item is sent at once; it must then carry the name, the ID number and an origin address down to the village (12-digit area code), or it is refused.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["kind", "person_id", "categories"], "properties": {
                "kind": {"type": "string", "enum": ["verification", "notification", "service_info"]},
                "person_id": {"type": "integer"},
                "categories": {"type": "array", "items": {"type": "string", "enum": CATEGORIES}},
                "reason": {"type": "string", "enum": NOTIFICATION_REASONS},
                "remarks": {"type": "string", "maxLength": 500},
                "submit": {"type": "boolean", "default": false}
            }}}}},
            "responses": {"201": {"description": "Created.", "content": {"application/json": {"schema": item.clone()}}}, "400": error, "401": error, "403": error, "404": error, "409": error}
        }
    });
    doc["paths"]["/exchange/items/{id}"] = json!({
        "parameters": id.clone(),
        "get": {"operationId": "getExchangeItem", "summary": "One item with its timeline and notifications (audited)", "responses": {"200": {"description": "The item.", "content": {"application/json": {"schema": item.clone()}}}, "401": error, "404": error}}
    });
    let action = |op: &str, summary: &str, body: Option<Value>| {
        let mut post = json!({"operationId": op, "summary": summary, "responses": {"200": {"description": "The item after the change.", "content": {"application/json": {"schema": item.clone()}}}, "400": error, "401": error, "403": error, "404": error, "409": {"description": "Not in a state that allows it (answered twice, never sent, the other side's action).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}});
        if let Some(b) = body {
            post["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": b}}});
        }
        json!({"parameters": id.clone(), "post": post})
    };
    doc["paths"]["/exchange/items/{id}/submit"] =
        action("submitExchangeItem", "Send a draft (sending county's operators)", None);
    doc["paths"]["/exchange/items/{id}/receive"] = action(
        "receiveExchangeItem",
        "Receive a submitted item (receiving county's operators); receiving again changes nothing",
        None,
    );
    doc["paths"]["/exchange/items/{id}/answer"] = action(
        "answerExchangeItem",
        "Answer (反馈) a received item; \"not found\" needs the reason in `remarks`",
        Some(json!({"type": "object", "required": ["found"], "properties": {
            "found": {"type": "boolean"},
            "remarks": {"type": "string", "maxLength": 500},
            "search_steps": {"type": "array", "description": "The search made, in order. Default: [\"own_records\"] for found, all three for not found (the answering county vouches for the prescribed search).", "items": {"type": "string", "enum": ["own_records", "manual_ledger", "police"]}},
            "facts": {"type": "object", "description": "Category → confirmed | differs | unknown.", "additionalProperties": {"type": "string", "enum": ["confirmed", "differs", "unknown"]}}
        }})),
    );
    doc["paths"]["/exchange/items/{id}/remind"] = action(
        "remindExchangeItem",
        "Remind (催办) the receiving county of an overdue item; its operators are notified",
        Some(json!({"type": "object", "properties": {"note": {"type": "string", "maxLength": 500}}})),
    );
    doc["paths"]["/exchange/stats"] = json!({
        "get": {
            "operationId": "exchangeStats",
            "summary": "The figures of a county (or the counties under a city or province) in one cycle",
            "description": "`sent`: items the unit submitted in the cycle (previous 21st to the 20th). `received`, `answered`: of the items submitted to it in the cycle, those received and answered by the close on the 27th (live before). `feedback_rate` = answered ÷ received items that ask for an answer (`feedback_due`); `timeliness` = answered by the last day ÷ answered. The feedback rate must reach 95%.",
            "parameters": [
                {"name": "unit", "in": "query", "schema": {"$ref": "#/components/schemas/OrgCode"}},
                {"name": "cycle", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}
            ],
            "responses": {"200": {"description": "The figures.", "content": {"application/json": {"schema": {"type": "object", "properties": {
                "unit": {"type": "string"}, "unit_name": {"type": "string"}, "cycle": {"type": "string"}, "closed": {"type": "boolean"},
                "sent": {"type": "integer"}, "incoming": {"type": "integer"}, "received": {"type": "integer"}, "feedback_due": {"type": "integer"},
                "answered": {"type": "integer"}, "answered_on_time": {"type": "integer"},
                "receipt_rate": rate.clone(), "feedback_rate": rate.clone(), "timeliness": rate.clone(), "meets_feedback_target": {"type": "boolean"}
            }}}}}, "400": error, "401": error, "404": error}
        }
    });
    doc["paths"]["/exchange/ranking"] = json!({
        "get": {
            "operationId": "exchangeRanking",
            "summary": "The quarterly ranking of a province's counties",
            "description": "By feedback rate, then timeliness, then receipt rate, over the quarter's three cycles. With more than three counties ranked, the last three are `bottom_three`; a county in the bottom three of this quarter and the one before is `flagged` (通报批评).",
            "parameters": [
                {"name": "province", "in": "query", "schema": {"$ref": "#/components/schemas/OrgCode"}},
                {"name": "quarter", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-Q[1-4]$"}}
            ],
            "responses": {"200": {"description": "{\"province\", \"quarter\", \"items\": [{rank, unit, unit_name, received, feedback_due, answered, receipt_rate, feedback_rate, timeliness, bottom_three, flagged}]}"}, "400": error, "401": error, "403": error, "404": error}
        }
    });
}

/// The repeated sections of a record, described from the same field list that validates them.
fn add_sections(doc: &mut Value) {
    use domain::sections::{FieldKind, Section};
    let error = json!({"$ref": "#/components/responses/Error"});
    for section in Section::ALL {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for f in section.fields() {
            let schema = match f.kind {
                FieldKind::Date => json!({"type": "string", "format": "date"}),
                FieldKind::Number { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
                FieldKind::Choice(values) => json!({"type": "string", "enum": values}),
                FieldKind::Code(table) => {
                    json!({"type": "string", "description": format!("code of the {} table", table.as_str())})
                }
                FieldKind::Text { max } => json!({"type": "string", "maxLength": max}),
                FieldKind::Name => json!({"type": "string", "maxLength": 30}),
                FieldKind::IdNumber => json!({"type": "string", "description": "18 characters, GB 11643"}),
            };
            properties.insert(f.name.to_owned(), schema);
            if f.required {
                required.push(f.name);
            }
        }
        let name = section.as_str();
        let schema = json!({"type": "object", "required": required, "properties": properties});
        doc["paths"][format!("/persons/{{id}}/{name}")] = json!({
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "get": {
                "operationId": format!("list_{name}"),
                "summary": format!("The {name} of a record"),
                "responses": {"200": {"description": "{\"items\": [{id, …fields, created_at, created_by}]}"}, "401": error, "404": error}
            },
            "post": {
                "operationId": format!("add_{name}"),
                "summary": format!("Add to the {name} of a record"),
                "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
                "responses": {
                    "201": {"description": "Added: {\"id\"}."},
                    "401": error, "404": error,
                    "422": {"description": "Fields break rules.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
            }
        });
    }
    doc["paths"]["/persons/{id}/pregnancies/{pregnancy}"] = json!({
        "parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}},
            {"name": "pregnancy", "in": "path", "required": true, "schema": {"type": "integer"}}
        ],
        "put": {
            "operationId": "closePregnancy",
            "summary": "Close an open pregnancy with its outcome",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["outcome", "ended_on"], "properties": {"outcome": {"type": "string", "enum": domain::sections::OUTCOMES}, "ended_on": {"type": "string", "format": "date"}}}}}},
            "responses": {"204": {"description": "Closed."}, "400": error, "401": error, "404": error, "409": error}
        }
    });
}

fn base() -> Value {
    let error = json!({"$ref": "#/components/responses/Error"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Qipan API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON API of Qipan (棋盘), the floating-population service and information-exchange system. Field names are a stable contract: fields may be added, never renamed or removed within v1."
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/org-units": {
                "get": {
                    "operationId": "listOrgUnits",
                    "security": [{"session": []}],
                    "summary": "List org units",
                    "description": "Without `parent`, `q` or `level`: the top level. With `parent` alone: the units directly below it. With `q` or `level`: every matching unit in the whole hierarchy, or below `parent` at any depth when it is given. Ordered by code.",
                    "parameters": [
                        {"name": "parent", "in": "query", "schema": {"$ref": "#/components/schemas/OrgCode"}, "description": "Code of the unit to list below."},
                        {"name": "level", "in": "query", "schema": {"$ref": "#/components/schemas/OrgLevel"}},
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}, "description": "Part of the name, or the start of the code."},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}}
                    ],
                    "responses": {
                        "200": {"description": "One page of units.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrgUnitList"}}}},
                        "400": error,
                        "401": error,
                        "403": error,
                        "404": error
                    }
                }
            },
            "/session": {
                "post": {
                    "operationId": "signIn",
                    "summary": "Sign in",
                    "description": "Checks a username and password and starts a session: the answer sets the `qipan_session` cookie (HttpOnly, SameSite=Strict). Every failure — unknown user, wrong password, locked or disabled account — is the same 401. Five failures in a row lock the account for 15 minutes.",
                    "security": [],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Credentials"}}}},
                    "responses": {
                        "200": {"description": "Signed in.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                        "401": error
                    }
                },
                "get": {
                    "operationId": "currentSession",
                    "summary": "Who is signed in (a session or a department token)",
                    "responses": {
                        "200": {"description": "The actor.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                        "401": error
                    }
                },
                "delete": {
                    "operationId": "signOut",
                    "summary": "Sign out (needs the X-CSRF-Token header with a session)",
                    "responses": {"204": {"description": "Signed out."}, "401": error, "403": error}
                }
            },
            "/persons": {
                "get": {
                    "operationId": "searchPersons",
                    "summary": "Search personal records in the actor's scope",
                    "description": "Records managed in the actor's subtree, and (read only) records whose household registration lies in it. ID numbers and phones are masked in the list and `birth_date` is the year only; searching by ID digits (`q` of digits) needs the right to write records and is audited.",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 50}, "description": "A name, its pinyin or initials (zhangli, zl), or the last digits of the ID number."},
                        {"name": "unit", "in": "query", "schema": {"$ref": "#/components/schemas/OrgCode"}, "description": "Only records managed under this unit."},
                        {"name": "direction", "in": "query", "schema": {"type": "string", "enum": ["in", "out"]}},
                        {"name": "origin", "in": "query", "schema": {"type": "boolean"}, "description": "Only people registered in the actor's area but managed elsewhere (异地查询); audited."},
                        {"name": "include_ended", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["moved_on", "name", "birth_date"]}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                        {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "The `next_after` of the page before, sent with the next page number: the page starts after that record through the sort order's index (keyset paging). When the record has left the list, `page` decides."}
                    ],
                    "responses": {
                        "200": {"description": "One page.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PersonList"}}}},
                        "400": error, "401": error, "403": error
                    }
                },
                "post": {
                    "operationId": "registerPerson",
                    "summary": "Register a person who moved in or out",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PersonInput"}}}},
                    "responses": {
                        "201": {"description": "Registered.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}},
                        "401": error, "403": error,
                        "409": error,
                        "422": {"description": "Fields break rules, one entry each.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    }
                }
            },
            "/persons/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {
                    "operationId": "getPerson",
                    "summary": "The full record (the view is audited)",
                    "responses": {"200": {"description": "The record.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}}, "401": error, "403": error, "404": error}
                },
                "put": {
                    "operationId": "updatePerson",
                    "summary": "Rewrite a record last read at `version`; a stale version is 409",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PersonInput"}}}},
                    "responses": {
                        "200": {"description": "Saved.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Person"}}}},
                        "400": error, "401": error, "403": error, "404": error, "409": error,
                        "422": {"description": "Fields break rules.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    }
                }
            },
            "/persons/{id}/history": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "get": {"operationId": "personHistory", "summary": "Every change: who, when, before and after", "responses": {"200": {"description": "Newest first: {\"items\": [{at, actor, action, changes, version}]}"}, "401": error, "404": error}}
            },
            "/persons/{id}/moves": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "post": {
                    "operationId": "endMove",
                    "summary": "End the move (returned, moved_on) or remove a record registered by mistake (removed, with a reason)",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["status", "version"], "properties": {"status": {"type": "string", "enum": ["returned", "moved_on", "removed"]}, "ended_on": {"type": "string", "format": "date"}, "note": {"type": "string"}, "version": {"type": "integer"}}}}}},
                    "responses": {"204": {"description": "Done."}, "400": error, "401": error, "404": error, "409": error}
                }
            },
            "/org-units/{code}": {
                "get": {
                    "operationId": "getOrgUnit",
                    "security": [{"session": []}],
                    "summary": "One org unit",
                    "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/OrgCode"}}],
                    "responses": {
                        "200": {"description": "The unit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrgUnit"}}}},
                        "401": error,
                        "404": {"description": "No such unit, or a code that cannot be one.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                    }
                }
            }
        },
        "security": [{"session": []}, {"token": []}],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "qipan_session", "description": "Set by POST /session. State-changing calls also send the session's CSRF token in the X-CSRF-Token header."},
                "token": {"type": "http", "scheme": "bearer", "description": "A department's API token, issued by the security administrator."}
            },
            "schemas": {
                "PersonInput": {
                    "type": "object",
                    "description": "Codes are from the code tables (gender GB/T 2261.1, ethnicity GB 3304, education GB/T 4658, marital status GB/T 2261.2). Gender and birth_date may be left out when id_number gives them.",
                    "required": ["name", "hukou_area", "hukou_address", "residence_area", "residence_address", "managing_unit", "direction", "moved_on"],
                    "properties": {
                        "id_number": {"type": "string", "description": "18 characters, GB 11643 (check digit checked)."},
                        "name": {"type": "string", "maxLength": 30},
                        "gender": {"type": "string", "enum": ["0", "1", "2", "9"]},
                        "birth_date": {"type": "string", "format": "date"},
                        "ethnicity": {"type": "string"}, "education": {"type": "string"}, "marital_status": {"type": "string"},
                        "phone": {"type": "string"},
                        "hukou_area": {"$ref": "#/components/schemas/OrgCode"}, "hukou_address": {"type": "string", "maxLength": 100},
                        "hukou_type": {"type": "string"},
                        "residence_area": {"$ref": "#/components/schemas/OrgCode"}, "residence_address": {"type": "string", "maxLength": 100},
                        "managing_unit": {"$ref": "#/components/schemas/OrgCode"},
                        "direction": {"type": "string", "enum": ["in", "out"]},
                        "moved_on": {"type": "string", "format": "date"},
                        "move_reason": {"type": "string"},
                        "version": {"type": "integer", "description": "Required for PUT: the version last read."}
                    }
                },
                "Person": {
                    "type": "object",
                    "required": ["id", "id_number", "name", "gender", "birth_date", "phone", "hukou_area", "hukou_address", "residence_area", "residence_address", "managing_unit", "direction", "moved_on", "version"],
                    "properties": {
                        "id": {"type": "integer"}, "id_number": {"type": ["string", "null"]}, "name": {"type": "string"},
                        "gender": {"type": "string"}, "birth_date": {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$", "description": "The date to those who may write the record; its year only in lists and to readers who may not"},
                        "ethnicity": {"type": ["string", "null"]}, "education": {"type": ["string", "null"]},
                        "phone": {"type": ["string", "null"]}, "marital_status": {"type": ["string", "null"]},
                        "hukou_area": {"type": "string"}, "hukou_address": {"type": "string"}, "hukou_type": {"type": ["string", "null"]},
                        "residence_area": {"type": "string"}, "residence_address": {"type": "string"},
                        "managing_unit": {"type": "string"}, "managing_unit_name": {"type": "string"},
                        "direction": {"type": "string", "enum": ["in", "out"]}, "moved_on": {"type": "string", "format": "date"},
                        "move_reason": {"type": ["string", "null"]}, "registered_on": {"type": "string", "format": "date"},
                        "status": {"type": "string", "enum": ["active", "returned", "moved_on", "removed"]},
                        "ended_on": {"type": ["string", "null"], "format": "date"}, "version": {"type": "integer"},
                        "access": {"type": "string", "enum": ["manage", "origin"], "description": "On GET /persons/{id}: manage, or origin (read only)."},
                        "days_late": {"type": "integer", "description": "On GET /persons/{id}: days the registration came after the move."}
                    }
                },
                "PersonList": {
                    "type": "object",
                    "required": ["items", "total", "more", "page", "per_page"],
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Person"}}, "total": {"type": "integer", "description": "Records matching, counted up to 1,000."}, "more": {"type": "boolean", "description": "True when more than 1,000 match: total stops at 1,000 and further pages follow while a page is full."}, "page": {"type": "integer"}, "per_page": {"type": "integer"}, "next_after": {"type": "integer", "description": "Present when a page follows: its `after`."}}
                },
                "Credentials": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}, "totp": {"type": "string", "description": "The current six-digit code (or a recovery code) of the account's second factor, when it has one; without it such an account is answered 401 second_factor_required"}}
                },
                "Session": {
                    "type": "object",
                    "required": ["username", "display_name", "unit", "roles", "must_change_password", "csrf_token"],
                    "properties": {
                        "username": {"type": "string"},
                        "display_name": {"type": "string"},
                        "unit": {"$ref": "#/components/schemas/OrgCode"},
                        "roles": {"type": "array", "items": {"type": "string", "enum": ["village_clerk", "township_officer", "county_operator", "supervisor", "department", "system_admin", "security_admin", "audit_admin"]}},
                        "must_change_password": {"type": "boolean", "description": "When true, every other call answers 403 password_change_required until the password is changed in the web interface."},
                        "csrf_token": {"type": ["string", "null"], "description": "Send it as X-CSRF-Token with every state-changing call made with this session; null for tokens."}
                    }
                },
                "OrgCode": {
                    "type": "string",
                    "description": "Statistical area code at the length of its level (2 province, 4 city, 6 county, 9 township, 12 village), or `<area code>-<local code>` for a unit.",
                    "pattern": "^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})(-[A-Za-z0-9]{1,12})?$",
                    "examples": ["371602", "371602001"]
                },
                "OrgLevel": {"type": "string", "enum": ["province", "city", "county", "township", "village", "unit"]},
                "OrgUnit": {
                    "type": "object",
                    "required": ["code", "name", "level", "parent", "child_count"],
                    "properties": {
                        "code": {"$ref": "#/components/schemas/OrgCode"},
                        "name": {"type": "string", "examples": ["滨城区"]},
                        "level": {"$ref": "#/components/schemas/OrgLevel"},
                        "parent": {"oneOf": [{"$ref": "#/components/schemas/OrgCode"}, {"type": "null"}], "description": "Code of the unit above; null at the top."},
                        "child_count": {"type": "integer", "minimum": 0, "description": "Number of units directly below."}
                    }
                },
                "OrgUnitList": {
                    "type": "object",
                    "required": ["items", "total", "page", "per_page"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/OrgUnit"}},
                        "total": {"type": "integer", "minimum": 0, "description": "Number of units matching, over all pages."},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1}
                    }
                },
                "Error": {
                    "type": "object",
                    "description": "An RFC 9457 problem document. `code` says what went wrong, `errors` names the fields at fault (empty when none is); `error` repeats the code, the message and the first field for clients written against v1's first envelope.",
                    "required": ["type", "title", "status", "detail", "code", "errors", "error"],
                    "properties": {
                        "type": {"type": "string", "examples": ["urn:qipan:problem:invalid"]},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"$ref": "#/components/schemas/ErrorCode"},
                        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "rule", "message"], "properties": {
                            "field": {"type": "string"}, "rule": {"type": "string"}, "message": {"type": "string"}
                        }}},
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"$ref": "#/components/schemas/ErrorCode"},
                                "message": {"type": "string"},
                                "field": {"type": "string", "description": "The parameter at fault, for `invalid`."}
                            }
                        }
                    }
                },
                "ErrorCode": {"type": "string", "enum": ["invalid", "malformed", "unsupported_media_type", "not_acceptable", "not_found", "invalid_file", "unauthenticated", "login_failed", "second_factor_required", "token_expired", "forbidden", "password_change_required", "factor_required", "stale", "duplicate", "conflict", "rate_limited", "unavailable", "timeout", "internal"]}
            },
            "responses": {
                "Error": {"description": "An error, naming the field and the rule where there is one.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    })
}
