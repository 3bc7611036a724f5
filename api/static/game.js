// The game screen: one socket to the gateway, the view model, the board, and the keys.
// A player's seat (game, player, token, the tab's session) is in the socket's URL; frames
// carry only intents. Leaving the screen leaves the seat; after GAME OVER a button plays
// the rematch the finished state names, as the same player (so in the same team).

import { drawBoard } from "./board.js";
import { markSuggested, nextSeat, tabSession, wasSuggested } from "./seats.js";
import { GameSocket } from "./socket.js";
import {
  absorb, disconnected, idleReason, livePlayers, newView, noted, seated, sent, undelivered,
  winnerWords,
} from "./view.js";

const MOVE_KEYS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right" };
const THROW_KEYS = { w: "up", a: "left", s: "down", d: "right" };
const $ = (id) => document.getElementById(id);

/** `4/5`: players of `team` alive, of all its players. */
function teamCount(state, team) {
  const all = Object.values(state.players).filter((p) => p.team === team).length;
  return `${livePlayers(state, team)}/${all}`;
}

/** The URL of the socket for a seat (`player` set) or for watching (`player` null). */
export function socketUrl(gameId, player, token, session = null) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const base = `${scheme}://${location.host}/games/${gameId}`;
  if (player === null) return `${base}/watch`;
  const query = new URLSearchParams({ player });
  if (token) query.set("token", token);
  if (session) query.set("session", session);
  return `${base}/play?${query}`;
}

/** Show game `gameId` as `player` (null: watch); `go(hash)` navigates; returns a function that leaves it. */
export function openGame({ gameId, player, token, phrases, showLink, go }) {
  let view = newView(gameId, player);
  let counter = 0;
  const session = player === null ? null : tabSession();
  const idPrefix = Math.random().toString(36).slice(2, 10);
  const playing = player !== null;
  const suggested = playing && wasSuggested(gameId, player); // a lost race moves on by itself
  const joins = new Set(); // our joins' action ids: their answers say whose the seat is
  let seatMine = false;
  let movingOn = false;
  let closed = false; // the screen was left: a late answer must not navigate or draw over the next one
  let bannerKey = null; // what the banner shows: it is rebuilt only when that changes

  $("game-title").textContent = playing ? `Game ${gameId} · you are ${player}` : `Watching game ${gameId}`;
  $("play-panel").hidden = !playing;
  $("controls").hidden = !playing;
  $("stat-grenades-row").hidden = !playing;
  const board = $("board");
  board.replaceChildren();
  board.setAttribute("aria-label", `Board of game ${gameId}: waiting for its state`);
  render();

  const socket = new GameSocket(socketUrl(gameId, player, token, session), {
    onFrame: (frame) => {
      if (typeof frame.version === "number") {
        if (view.state === null) view = noted(view, null); // the "no state yet" notice is over
        view = absorb(view, frame, performance.now(), phrases);
        if (frame.last && joins.has(frame.last.action_id)) answered(frame);
      } else if (frame.type === "undelivered") {
        view = undelivered(view, frame.action_id, frame.reason ?? "not acknowledged");
      } else if (frame.type === "waiting" && view.state === null) {
        view = noted(view, "this game has no state yet: it begins when a player joins");
      }
      render();
    },
    onLink: (link) => {
      showLink(link);
      if (link.state === "up" && playing) intend("join", undefined);
      if (link.state === "closed") {
        view = noted(view, `the server closed this seat: ${link.detail}`);
        render();
      }
    },
    onDrop: () => {
      view = disconnected(view);
      render();
    },
  }).start();

  /** The server's answer to our join: the seat is ours, or another session won it. */
  function answered(state) {
    const taken = !state.last.accepted && state.last.reason === "seat_taken";
    seatMine = state.last.accepted;
    view = seated(view, taken);
    if (taken && suggested) moveOn(state);
  }

  /** Take the next free seat the server offers, knowing what `state` shows taken. */
  async function moveOn(state) {
    if (movingOn) return;
    movingOn = true;
    const taken = [...Object.keys(state.seats ?? {}), player].map((p) => `${state.game_id}:${p}`);
    view = noted(view, `seat ${player} was taken a moment ago: taking the next free seat…`);
    render();
    try {
      const offer = await nextSeat({ taken });
      if (closed) return;
      markSuggested(offer.game_id, offer.player);
      go(`#/play/${offer.game_id}/${offer.player}`);
    } catch (err) {
      if (closed) return;
      movingOn = false;
      view = noted(view, `no other seat to take: ${err.message}`);
      render();
    }
  }

  /** Go to the rematch as the same player; in a closed game, with its token, for ours. */
  async function playRematch(rematch) {
    if (token) {
      try {
        const query = new URLSearchParams({ player, token });
        const response = await fetch(`/games/${gameId}/rematch?${query}`, { method: "POST" });
        const body = await response.json().catch(() => ({}));
        if (closed) return;
        if (!response.ok) throw new Error(body.message ?? `the server answered ${response.status}`);
        if (body.token) sessionStorage.setItem(`moba-token-${rematch}-${player}`, body.token);
      } catch (err) {
        if (closed) return;
        view = noted(view, `no token for the rematch: ${err.message}`);
        render();
        return;
      }
    }
    go(`#/play/${rematch}/${player}`);
  }

  function intend(type, direction) {
    const reason = type === "join" ? null : idleReason(view);
    if (reason !== null) {
      view = noted(view, reason);
      render();
      return;
    }
    counter += 1;
    const actionId = `web-${idPrefix}-${counter}`;
    if (type === "join") joins.add(actionId);
    const frame = direction === undefined ? { type, action_id: actionId } : { type, direction, action_id: actionId };
    if (socket.send(frame)) {
      if (type !== "join") view = sent(view, actionId, performance.now());
    } else {
      view = noted(view, "not sent: not connected to the server");
    }
    render();
  }

  function onKey(event) {
    if (!playing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement) return;
    const move = MOVE_KEYS[event.key];
    const toss = THROW_KEYS[event.key.toLowerCase()];
    if (move === undefined && toss === undefined) return;
    event.preventDefault(); // arrows would scroll the page
    if (move !== undefined) intend("move", move);
    else intend("throw", toss);
  }

  function onPad(event) {
    const button = event.target.closest("button[data-intent]");
    if (button) intend(button.dataset.intent, button.dataset.direction);
  }

  function render() {
    const state = view.state;
    if (state !== null) drawBoard(board, state, player);
    const me = state && player !== null ? state.players[player] : undefined;
    $("stat-grenades").textContent = me ? String(me.grenades) : "–";
    $("stat-a").textContent = state ? teamCount(state, "A") : "–";
    $("stat-b").textContent = state ? teamCount(state, "B") : "–";
    $("stat-version").textContent = state ? String(state.version) : "–";
    const last = $("last");
    last.textContent = view.lastWords ?? "none yet";
    last.classList.toggle("rejected", view.lastRejected);
    $("latency").textContent = view.latencyMs === null ? "–" : `${Math.round(view.latencyMs)} ms`;
    $("note").textContent = view.note ?? "";
    renderBanner(state, me);
    renderRoster(state);
  }

  /** The banner: game over, seat taken, or eliminated; rebuilt only when what it shows changes,
   * so its buttons stay the same elements between frames (a click lands, focus stays). */
  function renderBanner(state, me) {
    const banner = $("banner");
    const over = state !== null && state.status !== "running";
    const rematch = over ? (state.rematch ?? null) : null;
    const shown = over ? "over" : view.seatTaken ? "taken" : me && !me.alive ? "eliminated" : "none";
    const key = JSON.stringify([shown, over ? winnerWords(state) : null, rematch]);
    if (key === bannerKey) return;
    bannerKey = key;
    if (shown === "over") {
      banner.replaceChildren(document.createTextNode(`Game over: ${winnerWords(state)}`));
      const small = document.createElement("small");
      if (rematch !== null) {
        const verb = playing ? "Play" : "Watch";
        const where = playing ? `#/play/${rematch}/${player}` : `#/watch/${rematch}`;
        const again = document.createElement("button");
        again.type = "button";
        again.id = "rematch";
        again.className = "primary";
        again.textContent = `${verb} the rematch`;
        again.title = `Game ${rematch}, the same teams`;
        again.addEventListener("click", () => (playing ? playRematch(rematch) : go(where)));
        small.textContent = playing ? `game ${rematch}, you stay ${player}, with the same teams` : `game ${rematch}`;
        banner.append(again, small);
      } else {
        small.textContent = "Back to the lobby to play another";
        banner.append(small);
      }
      banner.className = "banner";
      banner.hidden = false;
    } else if (shown === "taken") {
      banner.replaceChildren(document.createTextNode(`Seat ${player} is taken`));
      const next = document.createElement("button");
      next.type = "button";
      next.id = "next-seat";
      next.className = "primary";
      next.textContent = "Take the next free seat";
      next.addEventListener("click", () => moveOn(view.state ?? state)); // the latest state's taken seats
      const small = document.createElement("small");
      small.textContent = "another player holds it";
      banner.append(next, small);
      banner.className = "banner strip";
      banner.hidden = false;
    } else if (shown === "eliminated") {
      banner.replaceChildren(document.createTextNode("You are eliminated"));
      const small = document.createElement("small");
      small.textContent = "Watch the others play on";
      banner.append(small);
      banner.className = "banner strip";
      banner.hidden = false;
    } else {
      banner.replaceChildren();
      banner.hidden = true;
    }
  }

  function renderRoster(state) {
    const items = Object.entries(state?.players ?? {}).map(([name, p]) => {
      const li = document.createElement("li");
      li.className = `team-${p.team.toLowerCase()}${p.alive ? "" : " dead"}${name === player ? " me" : ""}`;
      li.dataset.player = name;
      const who = document.createElement("span");
      who.textContent = name === player ? `${name} (you)` : name;
      const what = document.createElement("span");
      what.textContent = p.alive ? `●${p.grenades}` : "out";
      li.append(who, what);
      return li;
    });
    $("roster").replaceChildren(...items);
  }

  document.addEventListener("keydown", onKey);
  $("controls").addEventListener("click", onPad);
  board.focus();
  return () => {
    closed = true;
    // leaving the screen leaves the seat; a closed tab is left by the gateway after a grace
    if (playing && seatMine && view.state?.status === "running") {
      counter += 1;
      socket.send({ type: "leave", action_id: `web-${idPrefix}-${counter}` });
    }
    socket.stop();
    document.removeEventListener("keydown", onKey);
    $("controls").removeEventListener("click", onPad);
  };
}
