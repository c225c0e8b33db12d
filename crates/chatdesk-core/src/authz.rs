//! Authorization rules, in one place, for every door.
//!
//! - customers and visitors see their own sessions;
//! - agents and services see their tenant's sessions;
//! - admins see everything (an admin token scoped to a tenant sees that tenant);
//! - only staff change status or act on behalf of another user.
//!
//! A session a caller may not see is reported as "not found", never "forbidden", so that
//! ids of other people's sessions do not leak.

use crate::domain::{BusinessId, Session};
use crate::identity::{Principal, Role};

/// May this caller see (and so write to, read, end) this session? A tenant-scoped identity
/// sees only its tenant's sessions, its own included.
pub fn can_see(p: &Principal, s: &Session) -> bool {
    if p.business_id.as_ref().is_some_and(|b| *b != s.business_id) {
        return false;
    }
    match p.role {
        Role::Customer => s.owner == p.party,
        Role::Agent | Role::Service => s.business_id == p.home_tenant() || s.owner == p.party,
        Role::Admin => true,
    }
}

/// May this caller work in this tenant (create sessions there, list it)?
pub fn can_use_tenant(p: &Principal, tenant: &BusinessId) -> bool {
    match (&p.business_id, p.role) {
        // An unscoped admin works everywhere; an unscoped customer or visitor may open
        // sessions with any business (a storefront widget names its business).
        (None, Role::Admin | Role::Customer) => true,
        (None, Role::Agent | Role::Service) => tenant.as_str() == BusinessId::DEFAULT,
        (Some(home), _) => home == tenant,
    }
}

/// May this caller change a session's status, assignment or other staff-only fields?
pub fn can_manage(p: &Principal, s: &Session) -> bool {
    p.is_staff() && can_see(p, s)
}

/// May this caller act on behalf of another user (create their sessions, read their lists)?
pub fn can_act_for_others(p: &Principal) -> bool {
    matches!(p.role, Role::Service | Role::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn session(owner: Party, tenant: &str) -> Session {
        Session::sample(owner, tenant)
    }

    fn user(id: &str, role: Role, tenant: Option<&str>) -> Principal {
        Principal::user(
            UserId::parse(id).unwrap(),
            role,
            tenant.map(|t| BusinessId::parse(t).unwrap()),
        )
    }

    #[test]
    fn a_tenant_scoped_customer_sees_only_its_tenant() {
        let in_shop_b = user("alice", Role::Customer, Some("shopB"));
        let a = session(in_shop_b.party.clone(), "shopA");
        assert!(!can_see(&in_shop_b, &a), "same user id, other tenant");
        assert!(can_see(&user("alice", Role::Customer, None), &a));
        let b = session(in_shop_b.party.clone(), "shopB");
        assert!(can_see(&in_shop_b, &b));
    }

    #[test]
    fn customers_see_only_their_own() {
        let alice = user("alice", Role::Customer, None);
        let bob = user("bob", Role::Customer, None);
        let s = session(alice.party.clone(), "shop");
        assert!(can_see(&alice, &s));
        assert!(!can_see(&bob, &s));
        assert!(!can_manage(&alice, &s));
    }

    #[test]
    fn visitors_see_only_their_own() {
        let v1 =
            Principal::visitor(VisitorId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap());
        let v2 =
            Principal::visitor(VisitorId::parse("660e8400-e29b-41d4-a716-446655440000").unwrap());
        let s = session(v1.party.clone(), "default");
        assert!(can_see(&v1, &s));
        assert!(!can_see(&v2, &s));
    }

    #[test]
    fn agents_see_their_tenant() {
        let owner = user("alice", Role::Customer, None);
        let s = session(owner.party, "shop");
        assert!(can_manage(&user("ag", Role::Agent, Some("shop")), &s));
        assert!(!can_see(&user("ag", Role::Agent, Some("other")), &s));
        assert!(!can_see(&user("ag", Role::Agent, None), &s));
    }

    #[test]
    fn admins_see_everything_unless_scoped() {
        let s = session(Party::User(UserId::parse("x").unwrap()), "shop");
        assert!(can_see(&user("root", Role::Admin, None), &s));
        assert!(!can_see(&user("root", Role::Admin, Some("other")), &s));
    }

    #[test]
    fn tenant_use() {
        let shop = BusinessId::parse("shop").unwrap();
        assert!(can_use_tenant(&user("c", Role::Customer, None), &shop));
        assert!(!can_use_tenant(
            &user("c", Role::Customer, Some("x")),
            &shop
        ));
        assert!(!can_use_tenant(&user("s", Role::Service, None), &shop));
        assert!(can_use_tenant(
            &user("s", Role::Service, Some("shop")),
            &shop
        ));
        assert!(can_act_for_others(&user("s", Role::Service, Some("shop"))));
        assert!(!can_act_for_others(&user("a", Role::Agent, Some("shop"))));
    }
}
