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
                        "404": error
                    }
                }
            },
            "/org-units/{code}": {
                "get": {
                    "operationId": "getOrgUnit",
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
        "components": {
            "schemas": {
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
                                "code": {"type": "string", "enum": ["invalid", "not_found", "invalid_file", "internal"]},
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
