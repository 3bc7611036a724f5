// The game screen's view model: what it shows, as pure functions of what it has seen.
// The terminal client's client/view.py in JavaScript: the page renders states, it decides nothing.

/** A fresh view of `gameId`, played as `player` (null for a spectator). */
export function newView(gameId, player) {
  return {
    gameId, player, state: null, lastWords: null, lastRejected: false,
    latencyMs: null, note: null, pending: {}, seatTaken: false,
  };
}

/** `view` after a state; other games and versions already shown are ignored. */
export function absorb(view, state, now, phrases) {
  if (state.game_id !== view.gameId) return view;
  if (view.state !== null && state.version <= view.state.version) return view;
  const last = state.last;
  if (!last || view.player === null || last.player !== view.player) return { ...view, state };
  const { [last.action_id]: sentAt, ...pending } = view.pending;
  const latencyMs = sentAt !== undefined ? now - sentAt : view.latencyMs;
  if (last.type === "join" && last.accepted && view.lastWords !== null) {
    // a re-join after a reconnection says nothing the player asked for
    return { ...view, state, latencyMs, pending };
  }
  return {
    ...view, state, latencyMs, pending,
    lastWords: outcomeWords(last, phrases), lastRejected: !last.accepted,
  };
}

/** `view` after sending action `actionId` at `now` (ms); the notice about an earlier key is cleared. */
export function sent(view, actionId, now) {
  return { ...view, pending: { ...view.pending, [actionId]: now }, note: null };
}

/** `view` after the server said action `actionId` was not delivered, and why. */
export function undelivered(view, actionId, reason) {
  const { [actionId]: _, ...pending } = view.pending;
  return { ...view, pending, note: `action not delivered: ${reason}` };
}

/** `view` after the connection dropped with actions still unanswered: say they may be lost. */
export function disconnected(view) {
  const count = Object.keys(view.pending).length;
  if (count === 0) return view;
  const what = count === 1 ? "1 action" : `${count} actions`;
  return { ...view, pending: {}, note: `connection lost: ${what} unanswered, maybe not delivered` };
}

/** `view` with a local notice (why a key did nothing). */
export function noted(view, note) {
  return { ...view, note };
}

/** `view` after the server answered our `join`: the seat is ours, or another session holds it. */
export function seated(view, taken) {
  return { ...view, seatTaken: taken };
}

/** Why no key can do anything now (game over, seat taken, eliminated), or null. */
export function idleReason(view) {
  const state = view.state;
  if (state === null || view.player === null) return null;
  if (state.status !== "running") return `the game is over (${winnerWords(state)})`;
  if (view.seatTaken) return `seat ${view.player} is taken by another player`;
  const me = state.players[view.player];
  if (me === undefined) return `there is no player ${view.player} in game ${view.gameId}`;
  if (!me.alive) return "you are eliminated: watch the others";
  return null;
}

/** The words for an action's outcome, from the server's phrase table (GET /phrases). */
export function outcomeWords(outcome, phrases) {
  if (!outcome.accepted) {
    return (outcome.reason && phrases.rejections[outcome.reason]) || phrases.rejected;
  }
  const template = phrases.accepted[outcome.type] ?? outcome.type;
  return template.replace("{direction}", outcome.direction ?? "");
}

/** `team A wins`, `draw`, `abandoned`, or `no winner yet`. */
export function winnerWords(state) {
  if (state.status === "abandoned") return "abandoned: nobody played for a while";
  if (state.winner === null || state.winner === undefined) return "no winner yet";
  return state.winner === "draw" ? "draw" : `team ${state.winner} wins`;
}

/** How many players of `team` are alive. */
export function livePlayers(state, team) {
  return Object.values(state.players).filter((p) => p.team === team && p.alive).length;
}
