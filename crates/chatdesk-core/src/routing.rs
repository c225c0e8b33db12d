//! Who takes a waiting session: the routing policy. The stores read the candidates and apply
//! the choice in one transaction; the choice itself is made here.

use crate::domain::{Presence, UserId};
use uuid::Uuid;

/// An agent of the tenant as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: UserId,
    pub presence: Presence,
    /// Open real-time connections.
    pub connections: i64,
    pub max_concurrent: i64,
    /// Open sessions assigned to the agent now.
    pub load: i64,
    /// Departments the agent is a member of.
    pub departments: Vec<Uuid>,
}

impl Candidate {
    /// Online by choice, connected, and under its cap.
    pub fn available(&self) -> bool {
        self.presence == Presence::Online && self.connections > 0 && self.load < self.max_concurrent
    }

    /// May take a session waiting in `department` (`None`: the tenant's general queue, which
    /// any agent serves).
    fn serves(&self, department: Option<&str>) -> bool {
        match department {
            None => true,
            Some(d) => Uuid::parse_str(d).is_ok_and(|d| self.departments.contains(&d)),
        }
    }
}

/// `agents` with the departments each is a member of, from `(department, agent)` pairs.
pub fn with_memberships(
    mut agents: Vec<Candidate>,
    members: impl IntoIterator<Item = (Uuid, String)>,
) -> Vec<Candidate> {
    for (department, agent) in members {
        if let Some(a) = agents.iter_mut().find(|a| a.agent_id.as_str() == agent) {
            a.departments.push(department);
        }
    }
    agents
}

/// The queues business hours let routing serve now: the tenant's own (sessions without a
/// department, and departments without a schedule of their own) and each department that
/// has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenQueues {
    pub tenant: bool,
    /// Departments with a schedule of their own, and whether it is open.
    pub departments: Vec<(String, bool)>,
}

impl OpenQueues {
    /// Every queue open: no business hours.
    pub fn all() -> Self {
        Self {
            tenant: true,
            departments: Vec::new(),
        }
    }

    /// May a session waiting in `department` be assigned now?
    pub fn serves(&self, department: Option<&str>) -> bool {
        department
            .and_then(|d| self.departments.iter().find(|(x, _)| x == d))
            .map_or(self.tenant, |(_, open)| *open)
    }

    pub fn none(&self) -> bool {
        !self.tenant && self.departments.iter().all(|(_, open)| !open)
    }
}

/// Waiting sessions are offered to [`choose`] in queue order (by number), this many read at a
/// time; the first one some agent can take is assigned.
pub const WAITING_PAGE: u32 = 100;

/// The agent who takes a session waiting in `department`: an available agent who serves
/// that queue, the least loaded, ties to the first by id. `None`: nobody can take it now.
pub fn choose<'a>(department: Option<&str>, agents: &'a [Candidate]) -> Option<&'a UserId> {
    agents
        .iter()
        .filter(|a| a.available() && a.serves(department))
        .min_by(|a, b| (a.load, &a.agent_id).cmp(&(b.load, &b.agent_id)))
        .map(|a| &a.agent_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str, load: i64) -> Candidate {
        Candidate {
            agent_id: UserId::parse(name).unwrap(),
            presence: Presence::Online,
            connections: 1,
            max_concurrent: 2,
            load,
            departments: Vec::new(),
        }
    }

    fn chosen(department: Option<&str>, agents: &[Candidate]) -> Option<String> {
        choose(department, agents).map(|a| a.as_str().to_owned())
    }

    #[test]
    fn the_least_loaded_takes_it_and_ties_go_by_id() {
        let agents = [agent("bo", 1), agent("ada", 1), agent("cy", 0)];
        assert_eq!(chosen(None, &agents).as_deref(), Some("cy"));
        let agents = [agent("bo", 0), agent("ada", 0)];
        assert_eq!(chosen(None, &agents).as_deref(), Some("ada"));
    }

    #[test]
    fn only_available_agents_take_sessions() {
        let full = agent("full", 2);
        let away = Candidate {
            presence: Presence::Away,
            ..agent("away", 0)
        };
        let gone = Candidate {
            connections: 0,
            ..agent("gone", 0)
        };
        assert_eq!(chosen(None, &[full, away, gone]), None);
    }

    #[test]
    fn a_departments_queue_is_served_by_its_members() {
        let sales = Uuid::now_v7();
        let member = Candidate {
            departments: vec![sales],
            ..agent("member", 1)
        };
        let agents = [agent("other", 0), member];
        let queue = sales.to_string();
        assert_eq!(chosen(Some(&queue), &agents).as_deref(), Some("member"));
        assert_eq!(chosen(Some("not-a-department"), &agents), None);
        assert_eq!(chosen(None, &agents).as_deref(), Some("other"));
    }
}
