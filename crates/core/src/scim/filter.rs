//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed once into an AST by a
//! hand-written recursive descent (the grammar is a dozen productions; a parser crate would add
//! more than it saves), then either mapped to SQL with binds (the store) or evaluated against a
//! JSON value (PATCH value filters, [`Filter::matches`]).
//!
//! Precedence, lowest first: `or`, `and`, `not`; parentheses group. Operators, `not`, `and`,
//! `or` and the literals `true`, `false`, `null` are read in any case; attribute names are
//! compared ignoring case, as RFC 7643 §2.1 says.

use std::fmt;

use serde_json::Value;

/// Longest filter or path read; a longer one is refused before parsing.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and brackets.
const MAX_DEPTH: usize = 32;

/// An attribute path: `[urn:…:]name[.sub]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN, when the path names one (as written, without the trailing colon).
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn new(name: &str, sub: Option<&str>) -> Self {
        AttrPath {
            urn: None,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        }
    }

    /// `name` or `name.sub`, ignoring case and the URN.
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr pr`
    Present(AttrPath),
    /// `attr op value`; the value is a JSON scalar (string, number, boolean or null).
    Compare(AttrPath, CompareOp, Value),
    /// `attr[filter]`: some value of the multi-valued `attr` matches `filter`, whose paths are
    /// its sub-attributes.
    ValuePath(AttrPath, Box<Filter>),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// A PATCH operation's `path`: `attrPath`, or `valuePath` with an optional sub-attribute after
/// the brackets (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter (`attr.sub` is `None` then).
    pub sub: Option<String>,
}

/// Why a filter or path does not parse: a sentence naming the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, ParseError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(ParseError(format!(
                "The filter is longer than {MAX_FILTER_LEN} characters."
            )));
        }
        let mut parser = Parser::new(text);
        let filter = parser.or_expr(0)?;
        parser.skip_ws();
        if !parser.at_end() {
            return Err(parser.error("expected 'and', 'or' or the end of the filter"));
        }
        Ok(filter)
    }

    /// Whether `value` (a JSON object: a resource, or one value of a multi-valued attribute for
    /// a value filter) matches. `case_exact` tells, for a path, whether its strings compare
    /// exactly; otherwise they compare ignoring case.
    pub fn matches(&self, value: &Value, case_exact: &dyn Fn(&AttrPath) -> bool) -> bool {
        match self {
            Filter::Not(inner) => !inner.matches(value, case_exact),
            Filter::And(a, b) => a.matches(value, case_exact) && b.matches(value, case_exact),
            Filter::Or(a, b) => a.matches(value, case_exact) || b.matches(value, case_exact),
            Filter::Present(path) => values_at(value, path).iter().any(|v| present(v)),
            Filter::Compare(path, op, literal) => {
                let exact = case_exact(path);
                values_at(value, path)
                    .iter()
                    .any(|v| compare(v, *op, literal, exact))
                    // `ne` of an absent attribute holds, as "not equal" of nothing.
                    || (*op == CompareOp::Ne && values_at(value, path).is_empty())
            }
            Filter::ValuePath(path, inner) => {
                let items = values_at(value, path);
                items.iter().any(|item| inner.matches(item, case_exact))
            }
        }
    }
}

impl PatchPath {
    pub fn parse(text: &str) -> Result<PatchPath, ParseError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(ParseError(format!(
                "The path is longer than {MAX_FILTER_LEN} characters."
            )));
        }
        let mut parser = Parser::new(text);
        parser.skip_ws();
        let attr = parser.attr_path()?;
        let mut path = PatchPath {
            attr,
            filter: None,
            sub: None,
        };
        if parser.eat('[') {
            if path.attr.sub.is_some() {
                return Err(
                    parser.error("a value filter follows an attribute, not a sub-attribute")
                );
            }
            let filter = parser.or_expr(1)?;
            parser.skip_ws();
            if !parser.eat(']') {
                return Err(parser.error("expected ']'"));
            }
            path.filter = Some(filter);
            if parser.eat('.') {
                path.sub = Some(parser.name()?);
            }
        }
        parser.skip_ws();
        if !parser.at_end() {
            return Err(parser.error("unexpected text after the path"));
        }
        Ok(path)
    }
}

/// The values a path reaches in `value`: the attribute (each item of a multi-valued one), or its
/// sub-attribute in each.
fn values_at<'v>(value: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let Some(found) = get_ignoring_case(value, &path.name) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match found {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None => items,
        Some(sub) => items
            .into_iter()
            .filter_map(|item| get_ignoring_case(item, sub))
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                other => vec![other],
            })
            .collect(),
    }
}

/// The member of a JSON object named `name`, ignoring case.
pub fn get_ignoring_case<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

fn compare(value: &Value, op: CompareOp, literal: &Value, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (value, literal) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => Some(a.cmp(&b)),
            }
        }
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) => match op {
            CompareOp::Eq => return a == b,
            CompareOp::Ne => return a != b,
            _ => return false,
        },
        (_, Value::Null) => match op {
            CompareOp::Eq => return value.is_null(),
            CompareOp::Ne => return !value.is_null(),
            _ => return false,
        },
        _ => None,
    };
    let Some(ordering) = ordering else {
        return op == CompareOp::Ne;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn error(&self, what: &str) -> ParseError {
        let near: String = self.rest().chars().take(20).collect();
        if near.is_empty() {
            ParseError(format!("At the end of the filter: {what}."))
        } else {
            ParseError(format!(
                "At character {} ('{}'): {what}.",
                self.text[..self.pos].chars().count() + 1,
                near
            ))
        }
    }

    /// The next word (letters, digits, `-`, `_`, `$`), without consuming it.
    fn peek_word(&self) -> &'a str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// A keyword (`and`, `or`, `not`) followed by a separator, consumed when present.
    fn keyword(&mut self, word: &str) -> bool {
        let next = self.peek_word();
        if next.eq_ignore_ascii_case(word) {
            let after = self.rest()[next.len()..].chars().next();
            if matches!(after, None | Some(' ' | '\t' | '\n' | '\r' | '(')) {
                self.pos += next.len();
                return true;
            }
        }
        false
    }

    fn or_expr(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut left = self.and_expr(depth)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword("or") {
                let right = self.and_expr(depth)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and_expr(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let mut left = self.unary(depth)?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.keyword("and") {
                let right = self.unary(depth)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("the filter nests too deeply"));
        }
        self.skip_ws();
        if self.keyword("not") {
            self.skip_ws();
            if !self.eat('(') {
                return Err(self.error("expected '(' after 'not'"));
            }
            let inner = self.group(depth + 1)?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.eat('(') {
            return self.group(depth + 1);
        }
        self.attr_expr(depth)
    }

    /// After an opening parenthesis: a filter and its closing parenthesis.
    fn group(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let inner = self.or_expr(depth)?;
        self.skip_ws();
        if !self.eat(')') {
            return Err(self.error("expected ')'"));
        }
        Ok(inner)
    }

    fn attr_expr(&mut self, depth: usize) -> Result<Filter, ParseError> {
        let path = self.attr_path()?;
        if self.eat('[') {
            if path.sub.is_some() {
                return Err(self.error("a value filter follows an attribute, not a sub-attribute"));
            }
            let inner = self.or_expr(depth + 1)?;
            self.skip_ws();
            if !self.eat(']') {
                return Err(self.error("expected ']'"));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let before = self.pos;
        self.skip_ws();
        if self.pos == before {
            return Err(self.error("expected a space and an operator after the attribute"));
        }
        let word = self.peek_word();
        if word.eq_ignore_ascii_case("pr") {
            self.pos += word.len();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::parse(word) else {
            return Err(
                self.error("expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)")
            );
        };
        self.pos += word.len();
        let before = self.pos;
        self.skip_ws();
        if self.pos == before {
            return Err(self.error("expected a space and a value after the operator"));
        }
        let value = self.value()?;
        if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) && !value.is_string() {
            return Err(self.error(&format!("'{}' compares strings only", op.as_str())));
        }
        if matches!(
            op,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        ) && (value.is_boolean() || value.is_null())
        {
            return Err(self.error(&format!(
                "'{}' does not compare booleans or null",
                op.as_str()
            )));
        }
        Ok(Filter::Compare(path, op, value))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some('"') => {
                let start = self.pos;
                self.pos += 1;
                let mut escaped = false;
                loop {
                    let Some(c) = self.peek() else {
                        self.pos = start;
                        return Err(self.error("the string is not closed"));
                    };
                    self.pos += c.len_utf8();
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
                let literal = &self.text[start..self.pos];
                serde_json::from_str::<String>(literal)
                    .map(Value::String)
                    .map_err(|_| {
                        self.pos = start;
                        self.error("the string is not a valid JSON string")
                    })
            }
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let rest = self.rest();
                let end = rest
                    .find(|c: char| {
                        !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                    })
                    .unwrap_or(rest.len());
                let number: serde_json::Number = rest[..end]
                    .parse()
                    .map_err(|_| self.error("not a number"))?;
                self.pos += end;
                Ok(Value::Number(number))
            }
            _ => {
                let word = self.peek_word();
                let value = match word.to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => {
                        return Err(self.error(
                            "expected a value: a quoted string, a number, true, false or null",
                        ))
                    }
                };
                self.pos += word.len();
                Ok(value)
            }
        }
    }

    /// An attribute name: a letter, then letters, digits, `-` and `_` (or `$ref`).
    fn name(&mut self) -> Result<String, ParseError> {
        let word = self.peek_word();
        let valid = word == "$ref"
            || (word.starts_with(|c: char| c.is_ascii_alphabetic()) && !word.contains('$'));
        if word.is_empty() || !valid {
            return Err(self.error("expected an attribute name"));
        }
        self.pos += word.len();
        Ok(word.to_owned())
    }

    fn attr_path(&mut self) -> Result<AttrPath, ParseError> {
        let rest = self.rest();
        if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case("urn:") {
            // A URN is everything up to a space or bracket; its last ':' starts the name.
            let end = rest
                .find([' ', '\t', '[', ']', '(', ')'])
                .unwrap_or(rest.len());
            let whole = &rest[..end];
            let Some(colon) = whole.rfind(':') else {
                return Err(self.error("expected an attribute name after the schema URN"));
            };
            let urn = whole[..colon].to_owned();
            let tail = &whole[colon + 1..];
            let (name, sub) = match tail.split_once('.') {
                Some((name, sub)) => (name, Some(sub)),
                None => (tail, None),
            };
            let valid = |s: &str| {
                s == "$ref"
                    || (s.starts_with(|c: char| c.is_ascii_alphabetic())
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            };
            if !valid(name) || !sub.is_none_or(valid) {
                return Err(self.error("expected an attribute name after the schema URN"));
            }
            self.pos += end;
            return Ok(AttrPath {
                urn: Some(urn),
                name: name.to_owned(),
                sub: sub.map(str::to_owned),
            });
        }
        let name = self.name()?;
        let sub = if self.eat('.') {
            Some(self.name()?)
        } else {
            None
        };
        Ok(AttrPath {
            urn: None,
            name,
            sub,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cmp(name: &str, sub: Option<&str>, op: CompareOp, value: Value) -> Filter {
        Filter::Compare(AttrPath::new(name, sub), op, value)
    }

    #[test]
    fn every_operator_parses_in_any_case() {
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            let f = Filter::parse(&format!("userName {} \"a\"", op.to_uppercase())).unwrap();
            assert_eq!(
                f,
                cmp("userName", None, CompareOp::parse(op).unwrap(), json!("a"))
            );
        }
        assert_eq!(
            Filter::parse("title PR").unwrap(),
            Filter::Present(AttrPath::new("title", None))
        );
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        let f = Filter::parse(r#"a eq "1" or b eq "2" and not (c eq "3") or (d pr and e eq true)"#)
            .unwrap();
        let a = cmp("a", None, CompareOp::Eq, json!("1"));
        let b = cmp("b", None, CompareOp::Eq, json!("2"));
        let c = cmp("c", None, CompareOp::Eq, json!("3"));
        let d = Filter::Present(AttrPath::new("d", None));
        let e = cmp("e", None, CompareOp::Eq, json!(true));
        let expected = Filter::Or(
            Box::new(Filter::Or(
                Box::new(a),
                Box::new(Filter::And(Box::new(b), Box::new(Filter::Not(Box::new(c))))),
            )),
            Box::new(Filter::And(Box::new(d), Box::new(e))),
        );
        assert_eq!(f, expected);
    }

    #[test]
    fn urns_value_paths_and_literals_parse() {
        let f = Filter::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"7\"",
        )
        .unwrap();
        let Filter::Compare(path, _, _) = f else {
            panic!()
        };
        assert_eq!(
            path.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(path.name, "employeeNumber");
        let f = Filter::parse(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap();
        assert!(matches!(f, Filter::ValuePath(ref p, _) if p.name == "emails"));
        assert_eq!(
            Filter::parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#).unwrap(),
            cmp(
                "meta",
                Some("lastModified"),
                CompareOp::Gt,
                json!("2011-05-13T04:42:34Z")
            )
        );
        assert_eq!(
            Filter::parse(r#"x eq "a \"quoted\" \u00e9""#).unwrap(),
            cmp("x", None, CompareOp::Eq, json!("a \"quoted\" é"))
        );
        assert_eq!(
            Filter::parse("n ge -1.5e3").unwrap(),
            cmp("n", None, CompareOp::Ge, json!(-1500.0))
        );
        assert_eq!(
            Filter::parse("active eq False").unwrap(),
            cmp("active", None, CompareOp::Eq, json!(false))
        );
    }

    #[test]
    fn malformed_filters_are_refused_with_a_place() {
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName eq \"open",
            "userName foo \"x\"",
            "userName eq \"x\" and",
            "(userName eq \"x\"",
            "userName eq \"x\")",
            "emails[type eq \"work\"",
            "userName eq bare",
            "userName co 3",
            "active gt true",
            "not userName eq \"x\"",
            "userName eq \"x\" xor b pr",
            "1abc eq \"x\"",
            "urn: eq \"x\"",
            "userName eq\"x\"",
        ] {
            let e = Filter::parse(bad).expect_err(bad);
            assert!(!e.0.is_empty(), "{bad}");
        }
        let deep = format!("{}a pr{}", "(".repeat(100), ")".repeat(100));
        assert!(Filter::parse(&deep).is_err());
        assert!(Filter::parse(&"a".repeat(MAX_FILTER_LEN + 1)).is_err());
    }

    #[test]
    fn patch_paths_parse_with_filters_and_sub_attributes() {
        let p = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr, AttrPath::new("emails", None));
        assert!(p.filter.is_some());
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = PatchPath::parse(r#"members[value eq "user-1"]"#).unwrap();
        assert!(p.sub.is_none() && p.filter.is_some());
        let p = PatchPath::parse("name.givenName").unwrap();
        assert_eq!(p.attr, AttrPath::new("name", Some("givenName")));
        assert!(PatchPath::parse("name.givenName[x eq 1]").is_err());
        assert!(PatchPath::parse("emails[").is_err());
        assert!(PatchPath::parse("a b").is_err());
    }

    #[test]
    fn filters_evaluate_against_json_values() {
        let user = json!({
            "userName": "Bjensen",
            "emails": [{"value": "b@example.com", "type": "work"}, {"value": "b@home.org", "type": "home"}],
            "active": true,
            "n": 3
        });
        let exact = |_: &AttrPath| false;
        let yes = |f: &str| Filter::parse(f).unwrap().matches(&user, &exact);
        assert!(yes(r#"username eq "bjensen""#));
        assert!(yes(r#"emails[type eq "work" and value ew "example.com"]"#));
        assert!(!yes(r#"emails[type eq "other"]"#));
        assert!(yes(r#"emails.value co "home""#));
        assert!(yes("active eq true and n gt 2 and not (n ge 4)"));
        assert!(yes("title ne \"x\""));
        assert!(!yes("title pr"));
        let case_exact = |_: &AttrPath| true;
        assert!(!Filter::parse(r#"userName eq "bjensen""#)
            .unwrap()
            .matches(&user, &case_exact));
    }
}
