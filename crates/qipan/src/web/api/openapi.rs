//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the JSON API, written out by hand
//! (see docs/decisions/0003-openapi-by-hand.md); a test checks it against the live routes.

use axum::Json;
use serde_json::{Value, json};

use crate::service::orgs_limits::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_CHARS};

pub async fn document() -> Json<Value> {
    Json(spec())
}

pub fn spec() -> Value {
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
            "/org-units/{code}": {
                "get": {
                    "operationId": "getOrgUnit",
                    "security": [{"session": []}],
                    "summary": "One org unit",
                    "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/OrgCode"}}],
                    "responses": {
                        "200": {"description": "The unit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrgUnit"}}}},
                        "400": error,
                        "404": error
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
                "Credentials": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}}
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
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": ["invalid", "not_found", "invalid_file", "unauthenticated", "login_failed", "forbidden", "password_change_required", "stale", "duplicate", "internal"]},
                                "message": {"type": "string"},
                                "field": {"type": "string", "description": "The parameter at fault, for `invalid`."}
                            }
                        }
                    }
                }
            },
            "responses": {
                "Error": {"description": "An error, naming the field and the rule where there is one.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    })
}
