//! SCIM provisioning (`core::scim`): SCIM users and groups over the organization's members and
//! groups. Every write is one transaction that goes through the Admin API's own operations
//! (`invites::admit` and `send_invite`, `users::remove_member`, `set_base_role`, the groups'
//! `insert_group`, `rename`, `add_member`, …), so the rules (the last owner, unique emails,
//! grants) and audit events are theirs; the `If-Match` version is checked inside it. Filters
//! (`core::scim::fields`) become one statement with binds.

use async_trait::async_trait;
use orgadmin_core::actor::Actor;
use orgadmin_core::audit::{kind, NewAuditEvent};
use orgadmin_core::email::Email;
use orgadmin_core::id::*;
use orgadmin_core::model::{NewInvite, User};
use orgadmin_core::role::OrgBaseRole;
use orgadmin_core::scim::fields::{self, Field, FieldFilter, GroupField, Kind, Literal, UserField};
use orgadmin_core::scim::filter::CompareOp;
use orgadmin_core::scim::{
    if_match_allows, version_tag, Provisioning, ScimGroup, ScimGroupEdit, ScimGroupMember,
    ScimGroupWrite, ScimPage, ScimQuery, ScimStore, ScimUser, ScimUserEdit, ScimUserWrite,
};
use orgadmin_core::{ConflictKind, DomainError, Result};
use serde_json::json;
use sqlx::QueryBuilder;

use super::grants::Grants;
use super::{groups, invites, users, Backend, Db, DbResult, Tx};

#[derive(sqlx::FromRow)]
struct ScimUserRow {
    id: String,
    user_name: String,
    external_id: Option<String>,
    email: String,
    name: Option<String>,
    role: String,
    attributes: String,
    counter: i64,
    invite_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    member_role: Option<String>,
    member_name: Option<String>,
    member_email: Option<String>,
    invite_pending: i64,
}

impl ScimUserRow {
    fn into_user(self) -> Result<ScimUser> {
        let member = self.member_role.is_some();
        let role = self.member_role.as_deref().unwrap_or(&self.role);
        let role = OrgBaseRole::from_stored(role);
        let (email, name) = if member {
            (self.member_email.unwrap_or(self.email), self.member_name)
        } else {
            (self.email, self.name)
        };
        let pending = self.invite_pending > 0;
        let active = member || pending;
        let attributes = match serde_json::from_str(&self.attributes) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(DomainError::internal("stored SCIM attributes")),
        };
        let version = version_tag(
            self.counter,
            &[
                if active { "1" } else { "0" },
                role.as_str(),
                name.as_deref().unwrap_or(""),
                &email,
            ],
        );
        Ok(ScimUser {
            id: UserId::from_raw(self.id),
            user_name: self.user_name,
            external_id: self.external_id,
            email: Email::from_stored(email),
            name,
            role,
            active,
            member,
            pending_invite: self
                .invite_id
                .filter(|_| pending && !member)
                .map(InviteId::from_raw),
            attributes,
            created: self.created_at,
            last_modified: self.updated_at,
            version,
        })
    }
}

/// Whether a person provisioned by invite is active: a member, or holding their pending
/// invite (`$now` is pushed after it).
const ACTIVE: &str =
    "(u.id IS NOT NULL OR EXISTS (SELECT 1 FROM invites i WHERE i.org_id = s.org_id \
     AND i.id = s.invite_id AND i.accepted_at IS NULL AND i.expires_at > ";

fn push_user_select<'a>(qb: &mut QueryBuilder<'a, Db>, org: &'a OrgId, now: i64) {
    qb.push(
        "SELECT s.id, s.user_name, s.external_id, s.email, s.name, s.role, s.attributes, \
         s.counter, s.invite_id, s.created_at, s.updated_at, u.role AS member_role, \
         u.name AS member_name, u.email AS member_email, \
         (SELECT COUNT(*) FROM invites i WHERE i.org_id = s.org_id AND i.id = s.invite_id \
         AND i.accepted_at IS NULL AND i.expires_at > ",
    );
    qb.push_bind(now);
    qb.push(") AS invite_pending");
    push_user_from(qb, org);
}

fn push_user_from<'a>(qb: &mut QueryBuilder<'a, Db>, org: &'a OrgId) {
    qb.push(
        " FROM scim_users s LEFT JOIN users u ON u.org_id = s.org_id AND u.id = s.id \
         WHERE s.org_id = ",
    );
    qb.push_bind(org.as_str());
}

async fn find_user(tx: &mut Tx, org: &OrgId, id: &UserId) -> Result<Option<ScimUser>> {
    let now = tx.now();
    let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
    push_user_select(&mut qb, org, now);
    qb.push(" AND s.id = ");
    qb.push_bind(id.as_str());
    let row: Option<ScimUserRow> = qb.build_query_as().fetch_optional(&mut **tx).await.db()?;
    row.map(ScimUserRow::into_user).transpose()
}

fn not_found_user(id: &UserId) -> DomainError {
    DomainError::not_found("user", id, "id")
}

fn not_found_group(id: &GroupId) -> DomainError {
    DomainError::not_found("group", id, "id")
}

/// Refuse a change whose `If-Match` names another version.
fn check_version(if_match: Option<&str>, version: &str) -> Result<()> {
    match if_match {
        Some(header) if !if_match_allows(header, version) => Err(DomainError::conflict(
            ConflictKind::VersionMismatch,
            format!(
                "The resource has changed: its version is now {version}. Read it again and retry."
            ),
            Some("If-Match"),
        )),
        _ => Ok(()),
    }
}

/// `userName` and the email are unique among the organization's SCIM users (ignoring case).
async fn ensure_unique(
    tx: &mut Tx,
    org: &OrgId,
    user: &ScimUserWrite,
    except: Option<&UserId>,
) -> Result<()> {
    let clash: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, user_name_norm, email_norm FROM scim_users WHERE org_id = $1 \
         AND (user_name_norm = $2 OR email_norm = $3) AND id <> $4 LIMIT 1",
    )
    .bind(org.as_str())
    .bind(user.user_name.to_lowercase())
    .bind(user.email.normalized())
    .bind(except.map(UserId::as_str).unwrap_or(""))
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    if let Some((other, user_name_norm, _)) = clash {
        let (what, param) = if user_name_norm == user.user_name.to_lowercase() {
            (format!("userName '{}'", user.user_name), "userName")
        } else {
            (format!("the email {}", user.email), "emails")
        };
        return Err(DomainError::conflict(
            ConflictKind::AlreadyExists,
            format!("Another SCIM user ({other}) has {what}."),
            Some(param),
        ));
    }
    Ok(())
}

/// Change an active member to what `new` says: email, name and base role, each change with
/// the Admin API's rules (unique email, grants and the last owner for the role) and a
/// `user.updated` event.
async fn update_member(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    user: &User,
    new: &ScimUserWrite,
) -> Result<()> {
    let org = &actor.org_id;
    let mut changes = serde_json::Map::new();
    if new.email.normalized() != user.email.normalized()
        || new.email.as_str() != user.email.as_str()
    {
        sqlx::query("UPDATE users SET email = $1, email_norm = $2 WHERE org_id = $3 AND id = $4")
            .bind(new.email.as_str())
            .bind(new.email.normalized())
            .bind(org.as_str())
            .bind(user.id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| users::member_conflict_or_db_error(e, &new.email, "emails"))?;
        changes.insert("email".into(), json!(new.email.as_str()));
    }
    if new.name != user.name {
        sqlx::query("UPDATE users SET name = $1 WHERE org_id = $2 AND id = $3")
            .bind(new.name.as_deref())
            .bind(org.as_str())
            .bind(user.id.as_str())
            .execute(&mut **tx)
            .await
            .db()?;
        changes.insert("name".into(), json!(new.name));
    }
    if new.role != user.role {
        // What the new base role holds beyond the current one: nothing for a demotion.
        let gained = new
            .role
            .predefined()
            .permissions()
            .difference(user.role.predefined().permissions());
        let what = format!("Role '{}'", new.role.as_str());
        Grants::load(tx, actor)
            .await?
            .check(tx, actor, None, gained, &what)
            .await?;
        users::set_base_role(tx, org, user, new.role).await?;
        changes.insert("role".into(), json!(new.role.as_str()));
    }
    if !changes.is_empty() {
        let event = NewAuditEvent::new(
            kind::USER_UPDATED,
            user.id.as_str(),
            json!({ "id": user.id, "changes_requested": changes }),
        );
        store.audit(tx, actor, event).await?;
    }
    Ok(())
}

/// Make the membership what `new.active` says, as the Admin API would: a member is updated or
/// removed; someone who is not one is admitted (member provisioning: with the default project,
/// `user.added`) or invited (invite provisioning). Answers the pending invite afterwards.
async fn apply_membership(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    mode: Provisioning,
    id: &UserId,
    pending: Option<&InviteId>,
    new: &ScimUserWrite,
) -> Result<Option<InviteId>> {
    let org = &actor.org_id;
    let member = users::find(&mut **tx, org, id).await?;
    match (member, new.active) {
        (Some(user), true) => {
            update_member(store, tx, actor, &user, new).await?;
            if !user.is_scim_managed {
                mark_managed(tx, org, id).await?;
            }
            Ok(None)
        }
        (Some(user), false) => {
            // Their groups wait for them, as their SCIM resource does.
            sqlx::query(
                "INSERT INTO scim_group_members (org_id, group_id, user_id) \
                 SELECT org_id, group_id, user_id FROM group_users WHERE org_id = $1 AND user_id = $2 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .db()?;
            users::remove_member(store, tx, actor, &user).await?;
            Ok(None)
        }
        (None, true) => {
            if let Some(invite) = pending {
                // The invite stands for what it offered: a change of email or role sends a
                // new one.
                let current = invites::get(&mut **tx, org, invite).await?;
                if current.email.normalized() == new.email.normalized() && current.role == new.role
                {
                    return Ok(Some(invite.clone()));
                }
                invites::withdraw_invite(store, tx, actor, invite).await?;
            }
            match mode {
                Provisioning::Member => {
                    admit_member(store, tx, actor, id, new).await?;
                    Ok(None)
                }
                Provisioning::Invite => {
                    let invite = NewInvite {
                        email: new.email.clone(),
                        role: new.role,
                        projects: None,
                    };
                    Ok(Some(invites::send_invite(store, tx, actor, invite).await?))
                }
            }
        }
        (None, false) => {
            if let Some(invite) = pending {
                invites::withdraw_invite(store, tx, actor, invite).await?;
            }
            Ok(None)
        }
    }
}

async fn mark_managed(tx: &mut Tx, org: &OrgId, id: &UserId) -> Result<()> {
    sqlx::query("UPDATE users SET is_scim_managed = TRUE WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

/// A member made by SCIM, as an invite sent and accepted at once: the default project as
/// `member`, the grants of accepting, `user.added`.
async fn admit_member(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    id: &UserId,
    new: &ScimUserWrite,
) -> Result<()> {
    let org = &actor.org_id;
    let now = tx.now();
    let mut user = users::joining(store, tx, &new.email, new.name.clone(), new.role, now).await?;
    user.id = id.clone();
    user.is_scim_managed = true;
    let projects = invites::default_projects(tx, org).await?;
    invites::admit(store, tx, actor, &user, &projects, "Provisioning a user").await?;
    let event = NewAuditEvent::new(
        kind::USER_ADDED,
        id.as_str(),
        json!({ "id": id, "data": { "role": new.role.as_str() } }),
    );
    store.audit(tx, actor, event).await?;
    join_waiting_groups(store, tx, actor, id).await
}

/// The groups that waited for a person while they were not a member become theirs, each as
/// the Admin API adds a member (grants, `group.updated`).
async fn join_waiting_groups(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    id: &UserId,
) -> Result<()> {
    let org = &actor.org_id;
    let waiting: Vec<String> = sqlx::query_scalar(
        "DELETE FROM scim_group_members WHERE org_id = $1 AND user_id = $2 RETURNING group_id",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_all(&mut **tx)
    .await
    .db()?;
    for group in waiting {
        groups::add_member(store, tx, actor, &GroupId::from_raw(group), id).await?;
    }
    Ok(())
}

/// When a person provisioned by invite accepts it: their SCIM resource's ID, which they join
/// under (the resource no longer waits for the invite).
pub(crate) async fn claim_invite(
    tx: &mut Tx,
    org: &OrgId,
    invite: &InviteId,
) -> Result<Option<UserId>> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE scim_users SET invite_id = NULL, counter = counter + 1 \
         WHERE org_id = $1 AND invite_id = $2 RETURNING id",
    )
    .bind(org.as_str())
    .bind(invite.as_str())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    Ok(id.map(UserId::from_raw))
}

fn attributes_text(user: &ScimUserWrite) -> Result<String> {
    serde_json::to_string(&user.attributes).map_err(DomainError::internal)
}

/// `AND (filter)` in SQL with binds; `negated` pushes its negation (De Morgan down to the
/// leaves, so a positive equality stays a plain `column = $n` an index serves, and a negated
/// leaf counts an absent value as not matching).
fn push_filter<'a, F: Field>(
    qb: &mut QueryBuilder<'a, Db>,
    filter: &'a FieldFilter<F>,
    negated: bool,
    leaf: &PushLeaf<'a, F>,
) {
    match filter {
        FieldFilter::Not(inner) => push_filter(qb, inner, !negated, leaf),
        FieldFilter::And(a, b) | FieldFilter::Or(a, b) => {
            let and = matches!(filter, FieldFilter::And(..)) != negated;
            qb.push("(");
            push_filter(qb, a, negated, leaf);
            qb.push(if and { " AND " } else { " OR " });
            push_filter(qb, b, negated, leaf);
            qb.push(")");
        }
        FieldFilter::Present(f) => leaf(qb, *f, Leaf::Present, negated),
        FieldFilter::Compare(f, op, literal) => leaf(qb, *f, Leaf::Compare(*op, literal), negated),
    }
}

/// How one leaf of a filter on `F` is written (`negated` for its negation).
type PushLeaf<'a, F> = dyn Fn(&mut QueryBuilder<'a, Db>, F, Leaf<'a>, bool) + 'a;

#[derive(Clone, Copy)]
enum Leaf<'a> {
    Present,
    Compare(CompareOp, &'a Literal),
}

/// One leaf on a column holding text (lower-cased unless `exact`) or Unix seconds: its
/// positive form, or `(column IS NULL OR NOT (positive))`.
fn push_column_leaf<'a>(
    qb: &mut QueryBuilder<'a, Db>,
    column: &'a str,
    kind: Kind,
    leaf: Leaf<'a>,
    negated: bool,
) {
    let text_value = |s: &str| {
        if kind == Kind::Text {
            s.to_lowercase()
        } else {
            s.to_owned()
        }
    };
    if negated {
        qb.push(format!("({column} IS NULL OR NOT "));
    }
    qb.push("(");
    match leaf {
        Leaf::Present => {
            if matches!(kind, Kind::Time) {
                qb.push(format!("{column} IS NOT NULL"));
            } else {
                qb.push(format!("{column} IS NOT NULL AND {column} <> ''"));
            }
        }
        Leaf::Compare(op, Literal::Null) => {
            // `eq null`: absent; `ne null`: present.
            let absent = op == CompareOp::Eq;
            qb.push(format!(
                "{column} IS {}NULL",
                if absent { "" } else { "NOT " }
            ));
        }
        Leaf::Compare(op, Literal::Time(t)) => {
            qb.push(format!("{column} {} ", sql_op(op)));
            qb.push_bind(*t);
        }
        Leaf::Compare(_, Literal::Bool(_)) => {
            // Only `active` is boolean, and it has a leaf of its own.
            qb.push("FALSE");
        }
        Leaf::Compare(op, Literal::Text(s)) => {
            let v = text_value(s);
            match op {
                CompareOp::Co if v.is_empty() => {
                    qb.push(format!("{column} IS NOT NULL"));
                }
                CompareOp::Co => {
                    qb.push(format!("REPLACE({column}, "));
                    qb.push_bind(v);
                    qb.push(format!(", '') <> {column}"));
                }
                CompareOp::Sw => {
                    qb.push(format!("substr({column}, 1, length("));
                    qb.push_bind(v.clone());
                    qb.push(")) = ");
                    qb.push_bind(v);
                }
                CompareOp::Ew => {
                    qb.push(format!("length({column}) >= length("));
                    qb.push_bind(v.clone());
                    qb.push(format!(") AND substr({column}, length({column}) - length("));
                    qb.push_bind(v.clone());
                    qb.push(") + 1) = ");
                    qb.push_bind(v);
                }
                op => {
                    qb.push(format!("{column} {} ", sql_op(op)));
                    qb.push_bind(v);
                }
            }
        }
    }
    qb.push(")");
    if negated {
        qb.push(")");
    }
}

fn sql_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        // The pattern operators are written out by the caller.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "=",
    }
}

fn push_user_leaf<'a>(now: i64) -> impl Fn(&mut QueryBuilder<'a, Db>, UserField, Leaf<'a>, bool) {
    move |qb, field, leaf, negated| {
        let column = match field {
            UserField::Active => {
                // `active` is always present: `pr` and `ne null` hold, `eq null` never does.
                let wants = match leaf {
                    Leaf::Present | Leaf::Compare(CompareOp::Ne, Literal::Null) => None,
                    Leaf::Compare(CompareOp::Eq, Literal::Bool(b)) => Some(*b),
                    Leaf::Compare(CompareOp::Ne, Literal::Bool(b)) => Some(!*b),
                    Leaf::Compare(..) => {
                        qb.push(if negated { "TRUE" } else { "FALSE" });
                        return;
                    }
                };
                let Some(wants) = wants else {
                    qb.push(if negated { "FALSE" } else { "TRUE" });
                    return;
                };
                if wants == negated {
                    qb.push("NOT ");
                }
                qb.push(ACTIVE);
                qb.push_bind(now);
                qb.push("))");
                return;
            }
            UserField::Email => {
                if let Leaf::Compare(op @ (CompareOp::Eq | CompareOp::Ne), Literal::Text(s)) = leaf
                {
                    // Equality is the email identity rule's, served by the index; a value that
                    // is no address matches nobody.
                    let norm = Email::filter_key(s).unwrap_or_default();
                    let positive = (op == CompareOp::Eq) != negated;
                    qb.push(if positive {
                        "s.email_norm = "
                    } else {
                        "s.email_norm <> "
                    });
                    qb.push_bind(norm);
                    return;
                }
                "LOWER(s.email)"
            }
            UserField::Id => "s.id",
            UserField::UserName => "s.user_name_norm",
            UserField::ExternalId => "s.external_id",
            UserField::DisplayName => "LOWER(s.display_name)",
            UserField::NameFormatted => "LOWER(COALESCE(u.name, s.name))",
            UserField::GivenName => "LOWER(s.given_name)",
            UserField::FamilyName => "LOWER(s.family_name)",
            UserField::Created => "s.created_at",
            UserField::LastModified => "s.updated_at",
        };
        // `ne` is the negation of `eq`.
        let (leaf, negated) = match leaf {
            Leaf::Compare(CompareOp::Ne, literal) if !matches!(literal, Literal::Null) => {
                (Leaf::Compare(CompareOp::Eq, literal), !negated)
            }
            other => (other, negated),
        };
        push_column_leaf(qb, column, field.kind(), leaf, negated);
    }
}

fn push_group_leaf<'a>(
    qb: &mut QueryBuilder<'a, Db>,
    field: GroupField,
    leaf: Leaf<'a>,
    negated: bool,
) {
    let (leaf, negated) = match leaf {
        Leaf::Compare(CompareOp::Ne, literal) if !matches!(literal, Literal::Null) => {
            (Leaf::Compare(CompareOp::Eq, literal), !negated)
        }
        other => (other, negated),
    };
    let column = match field {
        GroupField::Member => {
            // Some member matches (or, negated, none does).
            if negated {
                qb.push("NOT ");
            }
            qb.push(
                "EXISTS (SELECT 1 FROM (SELECT gu.user_id FROM group_users gu \
                 WHERE gu.org_id = g.org_id AND gu.group_id = g.id UNION ALL SELECT w.user_id \
                 FROM scim_group_members w WHERE w.org_id = g.org_id AND w.group_id = g.id) AS m WHERE ",
            );
            push_column_leaf(qb, "m.user_id", Kind::ExactText, leaf, false);
            qb.push(")");
            return;
        }
        GroupField::Id => "g.id",
        GroupField::DisplayName => "g.name_norm",
        GroupField::ExternalId => "sg.external_id",
        GroupField::Created => "g.created_at",
        GroupField::LastModified => "COALESCE(sg.updated_at, g.created_at)",
    };
    push_column_leaf(qb, column, field.kind(), leaf, negated);
}

#[derive(sqlx::FromRow)]
struct ScimGroupRow {
    id: String,
    name: String,
    created_at: i64,
    external_id: Option<String>,
    counter: Option<i64>,
    updated_at: Option<i64>,
}

fn push_group_from<'a>(qb: &mut QueryBuilder<'a, Db>, org: &'a OrgId) {
    qb.push(
        " FROM groups g LEFT JOIN scim_groups sg ON sg.org_id = g.org_id AND sg.id = g.id \
         WHERE g.org_id = ",
    );
    qb.push_bind(org.as_str());
}

const GROUP_SELECT: &str =
    "SELECT g.id, g.name, g.created_at, sg.external_id, sg.counter, sg.updated_at";

/// The members of `groups`, each group's by user ID; none read when `with_members` is off.
async fn group_answers<'e>(
    db: impl sqlx::Executor<'e, Database = Db>,
    org: &OrgId,
    rows: Vec<ScimGroupRow>,
    with_members: bool,
) -> Result<Vec<ScimGroup>> {
    let mut members: Vec<(String, String, String)> = Vec::new();
    if with_members && !rows.is_empty() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT m.group_id, m.user_id, m.email FROM (SELECT gu.group_id, gu.user_id, u.email \
             FROM group_users gu JOIN users u ON u.org_id = gu.org_id AND u.id = gu.user_id \
             WHERE gu.org_id = ",
        );
        qb.push_bind(org.as_str());
        super::push_in(&mut qb, "gu.group_id", &ids);
        qb.push(
            " UNION ALL SELECT w.group_id, w.user_id, s.email FROM scim_group_members w \
             JOIN scim_users s ON s.org_id = w.org_id AND s.id = w.user_id WHERE w.org_id = ",
        );
        qb.push_bind(org.as_str());
        super::push_in(&mut qb, "w.group_id", &ids);
        qb.push(") AS m ORDER BY m.group_id, m.user_id");
        members = qb.build_query_as().fetch_all(db).await.db()?;
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine: Vec<ScimGroupMember> = members
                .iter()
                .filter(|(group, _, _)| *group == r.id)
                .map(|(_, user, email)| ScimGroupMember {
                    id: UserId::from_raw(user.clone()),
                    email: email.clone(),
                })
                .collect();
            let ids: Vec<&str> = mine.iter().map(|m| m.id.as_str()).collect();
            let joined = ids.join(",");
            let version = version_tag(
                r.counter.unwrap_or(0),
                &[&r.name, r.external_id.as_deref().unwrap_or(""), &joined],
            );
            ScimGroup {
                id: GroupId::from_raw(r.id),
                display_name: r.name,
                external_id: r.external_id,
                members: mine,
                created: r.created_at,
                last_modified: r.updated_at.unwrap_or(r.created_at),
                version,
            }
        })
        .collect())
}

async fn find_group(tx: &mut Tx, org: &OrgId, id: &GroupId) -> Result<Option<ScimGroup>> {
    let mut qb: QueryBuilder<Db> = QueryBuilder::new(GROUP_SELECT);
    push_group_from(&mut qb, org);
    qb.push(" AND g.id = ");
    qb.push_bind(id.as_str());
    let rows: Vec<ScimGroupRow> = qb.build_query_as().fetch_all(&mut **tx).await.db()?;
    Ok(group_answers(&mut **tx, org, rows, true).await?.pop())
}

/// Write what SCIM keeps of a group beside it (its `externalId`), counting the write.
async fn upsert_scim_group(
    tx: &mut Tx,
    org: &OrgId,
    id: &GroupId,
    external_id: Option<&str>,
) -> Result<()> {
    let now = tx.now();
    sqlx::query(
        "INSERT INTO scim_groups (org_id, id, external_id, counter, updated_at) VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (org_id, id) DO UPDATE SET external_id = $3, counter = scim_groups.counter + 1, updated_at = $4",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(external_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// Make the group's members `wanted`: those missing added, the others removed, each through the
/// Admin API's operation (grants, events); a SCIM user who is not a member now waits for the
/// group in `scim_group_members`.
async fn set_group_members(
    store: &Backend,
    tx: &mut Tx,
    actor: &Actor,
    id: &GroupId,
    current: &[ScimGroupMember],
    wanted: &[UserId],
) -> Result<()> {
    let org = &actor.org_id;
    for user in wanted {
        if current.iter().any(|m| &m.id == user) {
            continue;
        }
        if users::find(&mut **tx, org, user).await?.is_some() {
            groups::add_member(store, tx, actor, id, user).await?;
            continue;
        }
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM scim_users WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(user.as_str())
                .fetch_optional(&mut **tx)
                .await
                .db()?;
        if known.is_none() {
            return Err(DomainError::invalid(
                "members",
                format!("members: no user found with id '{user}'."),
            ));
        }
        sqlx::query(
            "INSERT INTO scim_group_members (org_id, group_id, user_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
    }
    for member in current {
        if wanted.contains(&member.id) {
            continue;
        }
        let waiting = sqlx::query(
            "DELETE FROM scim_group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(member.id.as_str())
        .execute(&mut **tx)
        .await
        .db()?;
        if waiting.rows_affected() == 0 {
            groups::remove_member(store, tx, actor, id, &member.id).await?;
        }
    }
    Ok(())
}

fn window(query: &ScimQuery) -> (i64, i64) {
    let offset = i64::try_from(query.start_index.saturating_sub(1)).unwrap_or(i64::MAX);
    let count = i64::try_from(query.count).unwrap_or(i64::MAX);
    (offset, count)
}

fn resolved<F: Field>(query: &ScimQuery) -> Result<Option<FieldFilter<F>>> {
    query
        .filter
        .as_ref()
        .map(|f| fields::resolve::<F>(f).map_err(|why| DomainError::invalid("filter", why)))
        .transpose()
}

#[async_trait]
impl ScimStore for Backend {
    async fn scim_create_user(
        &self,
        actor: &Actor,
        mode: Provisioning,
        new: ScimUserWrite,
    ) -> Result<ScimUser> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            ensure_unique(&mut tx, org, &new, None).await?;
            // A member already there (invited through the Admin API, say) is taken over by
            // the provider rather than refused: the identity provider is the directory now.
            let existing = users::find_by_email(&mut *tx, org, &new.email).await?;
            let mut new = new;
            if let Some(user) = &existing {
                // No roles given: the member keeps theirs.
                if !new.attributes.contains_key("roles") {
                    new.role = user.role;
                }
            }
            let id = match &existing {
                Some(user) => user.id.clone(),
                None => users::joining(self, &mut tx, &new.email, None, new.role, now).await?.id,
            };
            let invite = apply_membership(self, &mut tx, actor, mode, &id, None, &new).await?;
            sqlx::query(
                "INSERT INTO scim_users (org_id, id, user_name, user_name_norm, external_id, email, \
                 email_norm, name, display_name, given_name, family_name, role, attributes, counter, \
                 invite_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $15)",
            )
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(&new.user_name)
            .bind(new.user_name.to_lowercase())
            .bind(new.external_id.as_deref())
            .bind(new.email.as_str())
            .bind(new.email.normalized())
            .bind(new.name.as_deref())
            .bind(new.display_name.as_deref())
            .bind(new.given_name.as_deref())
            .bind(new.family_name.as_deref())
            .bind(new.role.as_str())
            .bind(attributes_text(&new)?)
            .bind(invite.as_ref().map(InviteId::as_str))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if super::is_unique_violation(&e) {
                    DomainError::conflict(
                        ConflictKind::AlreadyExists,
                        format!("A SCIM user with userName '{}' or the email {} exists.", new.user_name, new.email),
                        Some("userName"),
                    )
                } else {
                    super::db_error(e)
                }
            })?;
            let user = find_user(&mut tx, org, &id).await?.ok_or_else(|| not_found_user(&id))?;
            tx.commit().await?;
            Ok(user)
        })
        .await
    }

    async fn scim_get_user(&self, actor: &Actor, id: &UserId) -> Result<ScimUser> {
        self.guarded(async {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
            push_user_select(&mut qb, &actor.org_id, actor.now);
            qb.push(" AND s.id = ");
            qb.push_bind(id.as_str());
            let row: Option<ScimUserRow> = qb
                .build_query_as()
                .fetch_optional(&self.reader)
                .await
                .db()?;
            row.map(ScimUserRow::into_user)
                .transpose()?
                .ok_or_else(|| not_found_user(id))
        })
        .await
    }

    async fn scim_list_users(
        &self,
        actor: &Actor,
        query: &ScimQuery,
    ) -> Result<ScimPage<ScimUser>> {
        let filter = resolved::<UserField>(query)?;
        self.guarded(async {
            let org = &actor.org_id;
            let now = actor.now;
            let leaf = push_user_leaf(now);
            let mut conn = self.reader.acquire().await.db()?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*)");
            push_user_from(&mut qb, org);
            if let Some(filter) = &filter {
                qb.push(" AND ");
                push_filter(&mut qb, filter, false, &leaf);
            }
            let total: i64 = qb.build_query_scalar().fetch_one(&mut *conn).await.db()?;
            let (offset, count) = window(query);
            let mut items = Vec::new();
            if count > 0 && offset < total {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new("");
                push_user_select(&mut qb, org, now);
                if let Some(filter) = &filter {
                    qb.push(" AND ");
                    push_filter(&mut qb, filter, false, &leaf);
                }
                qb.push(" ORDER BY s.id LIMIT ");
                qb.push_bind(count);
                qb.push(" OFFSET ");
                qb.push_bind(offset);
                let rows: Vec<ScimUserRow> =
                    qb.build_query_as().fetch_all(&mut *conn).await.db()?;
                items = rows
                    .into_iter()
                    .map(ScimUserRow::into_user)
                    .collect::<Result<_>>()?;
            }
            Ok(ScimPage {
                total: u64::try_from(total).unwrap_or(0),
                items,
            })
        })
        .await
    }

    async fn scim_edit_user(
        &self,
        actor: &Actor,
        mode: Provisioning,
        id: &UserId,
        if_match: Option<&str>,
        edit: ScimUserEdit,
    ) -> Result<ScimUser> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let now = tx.now();
            let current = find_user(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_user(id))?;
            check_version(if_match, &current.version)?;
            let new = edit(&current)?;
            ensure_unique(&mut tx, org, &new, Some(id)).await?;
            let invite = apply_membership(
                self,
                &mut tx,
                actor,
                mode,
                id,
                current.pending_invite.as_ref(),
                &new,
            )
            .await?;
            sqlx::query(
                "UPDATE scim_users SET user_name = $1, user_name_norm = $2, external_id = $3, \
                 email = $4, email_norm = $5, name = $6, display_name = $7, given_name = $8, \
                 family_name = $9, role = $10, attributes = $11, invite_id = $12, \
                 counter = counter + 1, updated_at = $13 WHERE org_id = $14 AND id = $15",
            )
            .bind(&new.user_name)
            .bind(new.user_name.to_lowercase())
            .bind(new.external_id.as_deref())
            .bind(new.email.as_str())
            .bind(new.email.normalized())
            .bind(new.name.as_deref())
            .bind(new.display_name.as_deref())
            .bind(new.given_name.as_deref())
            .bind(new.family_name.as_deref())
            .bind(new.role.as_str())
            .bind(attributes_text(&new)?)
            .bind(invite.as_ref().map(InviteId::as_str))
            .bind(now)
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
            let user = find_user(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_user(id))?;
            tx.commit().await?;
            Ok(user)
        })
        .await
    }

    async fn scim_delete_user(
        &self,
        actor: &Actor,
        id: &UserId,
        if_match: Option<&str>,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let current = find_user(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_user(id))?;
            check_version(if_match, &current.version)?;
            if let Some(user) = users::find(&mut *tx, org, id).await? {
                users::remove_member(self, &mut tx, actor, &user).await?;
            } else if let Some(invite) = &current.pending_invite {
                invites::withdraw_invite(self, &mut tx, actor, invite).await?;
            }
            sqlx::query("DELETE FROM scim_group_members WHERE org_id = $1 AND user_id = $2")
                .bind(org.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("DELETE FROM scim_users WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn scim_create_group(&self, actor: &Actor, new: ScimGroupWrite) -> Result<ScimGroup> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let id = groups::insert_group(self, &mut tx, actor, &new.display_name).await?;
            upsert_scim_group(&mut tx, org, &id, new.external_id.as_deref()).await?;
            set_group_members(self, &mut tx, actor, &id, &[], &new.members).await?;
            let group = find_group(&mut tx, org, &id)
                .await?
                .ok_or_else(|| not_found_group(&id))?;
            tx.commit().await?;
            Ok(group)
        })
        .await
    }

    async fn scim_get_group(&self, actor: &Actor, id: &GroupId) -> Result<ScimGroup> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut conn = self.reader.acquire().await.db()?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(GROUP_SELECT);
            push_group_from(&mut qb, org);
            qb.push(" AND g.id = ");
            qb.push_bind(id.as_str());
            let rows: Vec<ScimGroupRow> = qb.build_query_as().fetch_all(&mut *conn).await.db()?;
            group_answers(&mut *conn, org, rows, true)
                .await?
                .pop()
                .ok_or_else(|| not_found_group(id))
        })
        .await
    }

    async fn scim_list_groups(
        &self,
        actor: &Actor,
        query: &ScimQuery,
    ) -> Result<ScimPage<ScimGroup>> {
        let filter = resolved::<GroupField>(query)?;
        self.guarded(async {
            let org = &actor.org_id;
            let mut conn = self.reader.acquire().await.db()?;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT COUNT(*)");
            push_group_from(&mut qb, org);
            if let Some(filter) = &filter {
                qb.push(" AND ");
                push_filter(&mut qb, filter, false, &push_group_leaf);
            }
            let total: i64 = qb.build_query_scalar().fetch_one(&mut *conn).await.db()?;
            let (offset, count) = window(query);
            let mut items = Vec::new();
            if count > 0 && offset < total {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new(GROUP_SELECT);
                push_group_from(&mut qb, org);
                if let Some(filter) = &filter {
                    qb.push(" AND ");
                    push_filter(&mut qb, filter, false, &push_group_leaf);
                }
                qb.push(" ORDER BY g.id LIMIT ");
                qb.push_bind(count);
                qb.push(" OFFSET ");
                qb.push_bind(offset);
                let rows: Vec<ScimGroupRow> =
                    qb.build_query_as().fetch_all(&mut *conn).await.db()?;
                items = group_answers(&mut *conn, org, rows, query.with_members).await?;
            }
            Ok(ScimPage {
                total: u64::try_from(total).unwrap_or(0),
                items,
            })
        })
        .await
    }

    async fn scim_edit_group(
        &self,
        actor: &Actor,
        id: &GroupId,
        if_match: Option<&str>,
        edit: ScimGroupEdit,
    ) -> Result<ScimGroup> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let current = find_group(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_group(id))?;
            check_version(if_match, &current.version)?;
            let new = edit(&current)?;
            if new.display_name != current.display_name {
                groups::rename(self, &mut tx, actor, id, &new.display_name).await?;
            }
            upsert_scim_group(&mut tx, org, id, new.external_id.as_deref()).await?;
            set_group_members(self, &mut tx, actor, id, &current.members, &new.members).await?;
            let group = find_group(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_group(id))?;
            tx.commit().await?;
            Ok(group)
        })
        .await
    }

    async fn scim_delete_group(
        &self,
        actor: &Actor,
        id: &GroupId,
        if_match: Option<&str>,
    ) -> Result<()> {
        self.guarded(async {
            let org = &actor.org_id;
            let mut tx = self.begin_for(actor).await?;
            let current = find_group(&mut tx, org, id)
                .await?
                .ok_or_else(|| not_found_group(id))?;
            check_version(if_match, &current.version)?;
            groups::delete(self, &mut tx, actor, id).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
