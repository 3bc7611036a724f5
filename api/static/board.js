// The board as the terminal client draws it (domain/render.py): rows from the top
// (y = height-1) down to 0, walls, each live player with its grenades, your player
// highlighted; eliminated players are marked where they fell.

/** Draw `state` into `el`, highlighting `me` (null for a spectator). */
export function drawBoard(el, state, me) {
  const walls = new Set(state.walls.map(([x, y]) => `${x},${y}`));
  const alive = new Map();
  const fallen = new Map();
  for (const [name, p] of Object.entries(state.players)) {
    (p.alive ? alive : fallen).set(`${p.x},${p.y}`, [name, p]);
  }
  el.style.gridTemplateColumns = `auto repeat(${state.width}, var(--cell))`;
  el.setAttribute("aria-label", `Board of game ${state.game_id}, ${state.width} by ${state.height}`);
  const rows = [];
  for (let y = state.height - 1; y >= 0; y -= 1) {
    const row = div("row", { role: "row" });
    row.append(div("axis", { "aria-hidden": "true" }, String(y)));
    for (let x = 0; x < state.width; x += 1) {
      const key = `${x},${y}`;
      row.append(cell(x, y, walls.has(key), alive.get(key) ?? fallen.get(key), me));
    }
    rows.push(row);
  }
  const footer = div("row", { "aria-hidden": "true" });
  footer.append(div("axis"));
  for (let x = 0; x < state.width; x += 1) footer.append(div("axis", {}, String(x)));
  rows.push(footer);
  el.replaceChildren(...rows);
}

function cell(x, y, wall, occupant, me) {
  const el = div(wall ? "cell wall" : "cell", { role: "gridcell", "data-x": x, "data-y": y });
  if (wall) {
    el.setAttribute("aria-label", `${x}, ${y}: wall`);
    return el;
  }
  if (occupant === undefined) {
    el.setAttribute("aria-label", `${x}, ${y}: empty`);
    return el;
  }
  const [name, p] = occupant;
  const classes = ["token", `team-${p.team.toLowerCase()}`];
  if (!p.alive) classes.push("dead");
  if (name === me && p.alive) classes.push("me");
  const token = div(classes.join(" "), { "data-player": name, "data-grenades": p.grenades });
  token.append(document.createTextNode(name));
  if (p.alive) token.append(div("nades", {}, `●${p.grenades}`));
  el.append(token);
  const who = name === me ? `${name} (you)` : name;
  el.setAttribute(
    "aria-label",
    p.alive ? `${x}, ${y}: ${who}, team ${p.team}, ${p.grenades} grenades` : `${x}, ${y}: ${who} eliminated`,
  );
  return el;
}

function div(className, attrs = {}, text = null) {
  const el = document.createElement("div");
  el.className = className;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}
