// The lobby: the games the server knows (GET /games, read from the recovery store) and a
// form to take a seat. It refreshes while shown; a click watches a game or takes the next
// free seat the server offers (GET /lobby/seat).

import { markSuggested, nextSeat } from "./seats.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 2000;
const PAGE = 1000; // GET /games's largest page

/** Every game the server lists, following the cursor; throws Error with the server's message. */
export async function listGames(pages = 20) {
  const games = [];
  let after = -1;
  for (let n = 0; n < pages; n += 1) {
    const response = await fetch(`/games?limit=${PAGE}&after=${after}`);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message ?? `the server answered ${response.status}`);
    games.push(...body.games);
    if (body.next_after === null) break;
    after = body.next_after;
  }
  return games;
}

/** The lobby's controller; `go(hash)` navigates. Returns { show(message), hide() }. */
export function lobby(seats, go) {
  let timer = null;
  let showing = 0; // counts shows and hides: an answer that comes after the lobby was left is dropped
  let known = [];
  const form = $("seat-form");
  const gameInput = $("seat-game");

  $("seat-list").replaceChildren(
    ...seats.flatMap(({ player, team }, i) => {
      const input = document.createElement("input");
      Object.assign(input, { type: "radio", name: "seat", value: player, id: `seat-${player}`, checked: i === 0 });
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.className = `team-${team.toLowerCase()}`;
      label.textContent = player;
      label.title = `Team ${team}`;
      return [input, label];
    }),
  );

  function chosenSeat() {
    return form.querySelector("input[name=seat]:checked")?.value ?? seats[0].player;
  }

  function gameId() {
    const text = gameInput.value.trim();
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      $("seat-error").textContent = "The game id is a whole number, 0 or more.";
      gameInput.focus();
      return null;
    }
    $("seat-error").textContent = "";
    return Number(text);
  }

  function newGame() {
    // an id no listed game has: one past the largest, so games stay in the order they began
    const ids = known.map((g) => g.game_id);
    gameInput.value = String(ids.length ? Math.max(...ids) + 1 : 1);
  }

  async function takeSeat(gameId = null) {
    // the server's next free seat (of this game, or of any open game, or a new game);
    // the claim decides: a lost race moves on to the next seat by itself
    $("seat-error").textContent = "";
    const shown = showing;
    try {
      const offer = await nextSeat({ game: gameId });
      if (shown !== showing) return; // left (and maybe shown again) meanwhile
      markSuggested(offer.game_id, offer.player);
      go(`#/play/${offer.game_id}/${offer.player}`);
    } catch (err) {
      if (shown !== showing) return;
      $("seat-error").textContent = `No seat to take: ${err.message}`;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = gameId();
    if (id === null) return;
    const token = $("seat-token").value.trim();
    const player = chosenSeat();
    const key = `moba-token-${id}-${player}`;
    if (token) sessionStorage.setItem(key, token);
    else sessionStorage.removeItem(key);
    go(`#/play/${id}/${player}`);
  });
  $("watch-game").addEventListener("click", () => {
    const id = gameId();
    if (id !== null) go(`#/watch/${id}`);
  });
  $("new-game").addEventListener("click", newGame);
  $("quick-play").addEventListener("click", () => takeSeat());

  async function refresh() {
    const shown = showing;
    try {
      known = await listGames();
      if (shown !== showing) return; // an earlier showing's refresh: the current one has its own
      draw(known);
      $("games-note").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (shown !== showing) return;
      draw([]);
      $("games-note").textContent = "";
      $("games-empty").textContent = `No games to list: ${err.message}`;
    }
    if (gameInput.value === "") newGame();
    timer = setTimeout(refresh, REFRESH_MS);
  }

  function draw(games) {
    const order = [...games].sort(
      (a, b) => (a.status === b.status ? b.game_id - a.game_id : a.status === "running" ? -1 : 1),
    );
    $("games").querySelector("tbody").replaceChildren(...order.map(row));
    $("games-empty").hidden = games.length > 0;
    $("games-empty").textContent = "No games yet: pick a seat in a new game to start one.";
  }

  function row(game) {
    const tr = document.createElement("tr");
    tr.dataset.game = game.game_id;
    const status = {
      running: "running",
      finished: `over: ${game.winner === "draw" ? "draw" : `team ${game.winner} won`}`,
      abandoned: "abandoned",
    }[game.status] ?? game.status;
    const cells = [
      [String(game.game_id), ""],
      [status, `badge ${game.status}`],
      [`${game.live_players.A} alive`, "alive-a"],
      [`${game.live_players.B} alive`, "alive-b"],
      [String(game.version), ""],
      [age(game.snapshot.age_s), "muted"],
    ];
    for (const [text, className] of cells) {
      const td = document.createElement("td");
      if (className.startsWith("badge")) {
        const span = document.createElement("span");
        span.className = className;
        span.textContent = text;
        td.append(span);
      } else {
        td.className = className;
        td.textContent = text;
      }
      tr.append(td);
    }
    const td = document.createElement("td");
    td.append(
      button("Watch", `Watch game ${game.game_id}`, () => go(`#/watch/${game.game_id}`)),
      ...(game.status === "running"
        ? [button("Play", `Take a free seat in game ${game.game_id}`, () => takeSeat(game.game_id))]
        : []),
    );
    tr.append(td);
    return tr;
  }

  return {
    show(message = "") {
      showing += 1;
      $("seat-error").textContent = message;
      clearTimeout(timer);
      refresh();
    },
    hide() {
      showing += 1;
      clearTimeout(timer);
      timer = null;
    },
  };
}

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function age(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
