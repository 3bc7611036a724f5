// The page's entry: loads the words and seats from the server, then routes by the URL's hash:
// `#/` lobby, `#/play/<game>/<player>` a seat, `#/watch/<game>` a spectator's view.

import { openGame } from "./game.js";
import { lobby } from "./lobby.js";

const $ = (id) => document.getElementById(id);
const LINK_CLASS = { up: "up", connecting: "wait", retry: "wait", closed: "down" };

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: the server answered ${response.status}`);
  return response.json();
}

function showLink(link) {
  const pill = $("link");
  pill.hidden = link === null;
  if (link === null) return;
  pill.className = `pill ${LINK_CLASS[link.state]}`;
  pill.textContent = link.detail;
  pill.dataset.state = link.state;
}

/** The screen a hash names, or an error message for a lobby to show. */
export function route(hash, players) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  if (parts.length === 0) return { screen: "lobby" };
  const [kind, game, player] = parts;
  const gameOk = /^\d+$/.test(game ?? "") && Number.isSafeInteger(Number(game));
  if (kind === "watch" && gameOk && parts.length === 2) return { screen: "game", gameId: Number(game), player: null };
  if (kind === "play" && gameOk && parts.length === 3) {
    if (players.includes(player)) return { screen: "game", gameId: Number(game), player };
    return { screen: "lobby", error: `There is no seat ${player}: choose one of ${players.join(", ")}.` };
  }
  return { screen: "lobby", error: `Nothing at ${hash}: pick a game below.` };
}

async function main() {
  let phrases, seats;
  try {
    [phrases, { seats }] = await Promise.all([getJson("/phrases"), getJson("/seats")]);
  } catch (err) {
    $("main").textContent = `The page could not load from the server: ${err.message}`;
    return;
  }
  const players = seats.map((s) => s.player);
  const go = (hash) => { location.hash = hash; };
  const lobbyScreen = lobby(seats, go);
  let leave = null;

  function show() {
    if (leave !== null) leave();
    leave = null;
    lobbyScreen.hide();
    const where = route(location.hash, players);
    $("lobby").hidden = where.screen !== "lobby";
    $("game").hidden = where.screen !== "game";
    if (where.screen === "lobby") {
      showLink(null);
      $("where").textContent = "Lobby";
      document.title = "moba: lobby";
      lobbyScreen.show(where.error);
      return;
    }
    const { gameId, player } = where;
    $("where").textContent = player === null ? `Watching game ${gameId}` : `Game ${gameId}, seat ${player}`;
    document.title = player === null ? `moba: watching game ${gameId}` : `moba: game ${gameId} as ${player}`;
    const token = player === null ? null : sessionStorage.getItem(`moba-token-${gameId}-${player}`);
    leave = openGame({ gameId, player, token, phrases, showLink, go });
  }

  window.addEventListener("hashchange", show);
  show();
}

main();
