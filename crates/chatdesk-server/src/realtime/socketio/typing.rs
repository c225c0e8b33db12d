//! `typing`: throttled per conversation, bounded per socket, stopped on disconnect.

use super::*;

/// Per socket and conversation (as the client named it): when it last said it was typing or
/// had stopped, and which (for throttling and the auto-stop). A stop is kept, not forgotten:
/// socketioxide handles each event in its own task, so a burst's late "typing" can be handled
/// after the "stopped" that the client sent last; inside the throttle window it is then
/// dropped instead of starting typing again.
#[derive(Clone, Default)]
pub(super) struct TypingState(pub(super) Arc<Mutex<HashMap<Conversation, (Instant, bool)>>>);

impl TypingState {
    /// Whether `to` is tracked or can be: a full map first forgets stops older than the
    /// throttle window (nothing depends on them any more).
    fn room_for(&self, to: &Conversation) -> bool {
        let mut last = self.0.lock().expect("typing lock");
        if last.contains_key(to) || last.len() < MAX_TYPING_CONVERSATIONS {
            return true;
        }
        last.retain(|_, (t, typing)| *typing || t.elapsed() < TYPING_THROTTLE);
        last.len() < MAX_TYPING_CONVERSATIONS
    }
}

/// No acknowledgement: data that does not read as `typing`'s is dropped.
pub(super) async fn typing(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(data): TryData<inbound::Typing>,
) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else { return };
    let Ok(mut data) = data else { return };
    let Ok(Some(to)) = data.conversation() else {
        return;
    };
    let is_typing = data.is_typing.unwrap_or(true);
    let state = s.extensions.get::<TypingState>().unwrap_or_default();
    let key = to.clone();
    if !state.room_for(&key) {
        return;
    }
    if is_typing {
        let now = Instant::now();
        let throttled = {
            let mut last = state.0.lock().expect("typing lock");
            let recent = last
                .get(&key)
                .is_some_and(|(t, _)| now.saturating_duration_since(*t) < TYPING_THROTTLE);
            if !recent {
                last.insert(key.clone(), (now, true));
            }
            recent
        };
        if throttled {
            return;
        }
        // Stop by itself unless renewed.
        let (rt2, p2, to2, state2) = (rt.clone(), p.clone(), to.clone(), state.clone());
        tokio::spawn(async move {
            tokio::time::sleep(TYPING_TIMEOUT).await;
            let expired = {
                let mut last = state2.0.lock().expect("typing lock");
                let expired = last
                    .get(&key)
                    .is_some_and(|(t, typing)| *typing && t.elapsed() >= TYPING_TIMEOUT);
                if expired {
                    last.remove(&key);
                }
                expired
            };
            if expired {
                let _ = rt2.messages.typing(&p2, to2, false).await;
            }
        });
    } else {
        state
            .0
            .lock()
            .expect("typing lock")
            .insert(key, (Instant::now(), false));
    }
    let _ = rt.messages.typing(&p, to, is_typing).await;
}

pub(super) async fn stop_all_typing(s: &SocketRef, rt: &Realtime) {
    let Some(p) = identity(s) else { return };
    let Some(state) = s.extensions.get::<TypingState>() else {
        return;
    };
    let typing_in: Vec<Conversation> = state
        .0
        .lock()
        .expect("typing lock")
        .drain()
        .filter(|(_, (_, typing))| *typing)
        .map(|(to, _)| to)
        .collect();
    for to in typing_in {
        let _ = rt.messages.typing(&p, to, false).await;
    }
}
