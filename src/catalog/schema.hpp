// The catalog's migrations, one list per backend with the same steps and numbers. Persistent
// schema: never edit, renumber or remove a shipped migration, never rename a column or change
// the meaning of a stored string; add a migration (to both lists).
//
// Stored strings (persistent: do not rename; the enums' names in catalog.cpp): side "buy" |
// "sell"; order status "new" | "accepted" | "filled" | "denied" | "rejected" | "cancelled";
// runs.status "running" | "ok" | "failed" | "interrupted". Money and quantities are integer
// micro-units (columns named *_micros).
//
// The embedded queue keeps its own tables (prefixed queue_) in the same file and records its
// migrations in schema_migrations under component "queue".
#pragma once

#include <span>

#include "trib/db/sqlite.hpp"

namespace trib::catalog {

using db::Migration;
using db::SqliteDb;
using db::SqliteStmt;
using db::with_context;

inline constexpr char kCatalogComponent[] = "catalog";

// SQLite (schema.cpp).
std::span<const Migration> catalog_migrations();
// PostgreSQL (postgres_schema.cpp): the same steps with the same numbers in PostgreSQL types.
std::span<const Migration> postgres_catalog_migrations();

}  // namespace trib::catalog
