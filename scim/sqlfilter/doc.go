// Package sqlfilter compiles a SCIM filter (RFC 7644 §3.4.2.2), parsed by
// package filter, into a SQL WHERE clause over one resource type's tables,
// and a sortBy attribute (§3.4.2.3) into an ORDER BY term.
//
// # Storage layout
//
// Each resource type has a main table, referenced as alias r (see [Alias]
// and [Mapping.From]), whose IDColumn holds the SCIM id. Singular
// attributes are columns of the main table; a singular complex attribute is
// flattened into one column per sub-attribute ("name.familyName").
// Multi-valued attributes live in child tables, one row per value, with a
// column per sub-attribute (or one column for a multi-valued simple
// attribute) and a parent column holding the resource id. A membership join
// table can serve both sides (Group.members and User.groups) because each
// side is just a child table with its own parent and value columns.
//
// Column encodings: strings, references and binary are TEXT (in SQLite the
// columns of caseExact=false attributes are declared COLLATE NOCASE; in
// Postgres every text column is COLLATE "C", byte order as in SQLite);
// columns marked Folded hold the value case-folded ([Fold]) and are compared
// as stored, with plain indexes. Booleans are INTEGER 0/1 in SQLite and
// boolean in Postgres; integers INTEGER/bigint; decimals REAL/double
// precision; dateTime is, in both, TEXT holding UTC in the fixed-width
// layout [SQLiteTimeLayout] (so text order is time order).
//
// # Semantics
//
//   - Attribute names resolve case-insensitively: unqualified names against
//     the core schema first, then each extension in Mapping.Schemas order;
//     URN-qualified names against the named schema. An unknown attribute is
//     always an error, never silently ignored.
//   - A comparison on a multi-valued attribute matches when any value
//     matches (EXISTS over the child table). A value path
//     (emails[type eq "work" and value co "@x"]) requires all its
//     conditions to hold for the same value: it compiles to one EXISTS.
//     A comparison on a multi-valued complex attribute without a
//     sub-attribute ("emails co x") means its "value" sub-attribute.
//   - caseExact=false strings compare case-insensitively, caseExact=true
//     strings exactly, in both dialects, for every operator.
//   - "ne" treats a missing value as not equal: title ne "x" matches
//     resources without a title, and emails.type ne "work" matches
//     resources with no email at all or with any email whose type is not
//     "work".
//   - "not (f)" is the exact complement of f over resources (NULLs from
//     missing values are folded to false before negation).
//   - "eq null" matches when the attribute is not present (see "pr") and
//     "ne null" when it is; null with any other operator is an error.
//   - "pr" is non-null (and, for string-like types, non-empty). On a
//     multi-valued complex attribute with no sub-attribute it is "has at
//     least one value"; on a singular complex attribute, "any sub-attribute
//     present".
//   - Values are type-checked against the attribute: booleans accept
//     true/false and the strings "true"/"false" in any case (Entra ID quirk
//     Q2); integer and decimal accept numbers and numeric strings; dateTime
//     accepts RFC 3339 / xsd:dateTime strings (no time zone means UTC).
//     co/sw/ew apply to string and reference only; gt/ge/lt/le to string,
//     reference, dateTime, integer and decimal; boolean and binary allow
//     only eq/ne/pr.
//
// Every value is passed as a bound argument, written "?" in both dialects
// and bound in order of appearance (the store numbers them $1..$n for
// Postgres when it runs the query); no value is ever inlined into the SQL
// text. Identifiers are double-quoted.
//
// Errors caused by the filter are *Error (map them to HTTP 400, scimType
// invalidFilter, or invalidValue for sortBy). Any other error means the
// Mapping itself is inconsistent: a server bug.
package sqlfilter
