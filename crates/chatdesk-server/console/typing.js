// Typing both ways over REST: a notice while the user writes (renewed every few seconds, well
// inside the server's `typing_per_session` limit), "stopped" once they send or clear the box;
// and an indicator that lapses unless renewed, since a closed tab never says it stopped.

const RENEW_MS = 3000;
const LAPSE_MS = 6000;

/** Calls `post(isTyping)` as the text in a box changes; `stop()` when it is sent. */
export function typingNotifier(post) {
  let last = 0;
  const stop = () => {
    if (last) {
      last = 0;
      post(false);
    }
  };
  return {
    input(empty) {
      if (empty) return stop();
      const now = Date.now();
      if (now - last >= RENEW_MS) {
        last = now;
        post(true);
      }
    },
    stop,
  };
}

/** Shows a text in `el` for a while; a new one (or '') replaces it. */
export function typingIndicator(el) {
  let timer;
  return (text) => {
    clearTimeout(timer);
    el.textContent = text;
    if (text) timer = setTimeout(() => { el.textContent = ''; }, LAPSE_MS);
  };
}
