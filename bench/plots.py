"""PNG plots of a run (matplotlib, the optional `bench` extra): throughput beside its limit, latency CDFs."""

from pathlib import Path

from bench.report import Results


def write_plots(results: Results, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    limit = results.figures["throughput.limit_per_s"]
    one = results.figures["throughput.actions_per_s"]
    speedup = results.figures["throughput.two_process_speedup"]
    if one.values and limit.values:
        bars = {
            "pass-through limit\n(consume -> produce)": limit.values,
            "dataflow\n1 process": one.values,
            "dataflow\n2 processes": [v * one.median for v in speedup.values],
        }
        bars = {name: values for name, values in bars.items() if values}  # a failed run: absent
        medians = [sorted(v)[len(v) // 2] for v in bars.values()]
        lows = [m - min(v) for m, v in zip(medians, bars.values(), strict=True)]
        highs = [max(v) - m for m, v in zip(medians, bars.values(), strict=True)]
        ax.barh(list(bars), medians, xerr=[lows, highs], color=["#999999", "#3b75af", "#6fa8dc"])
        for y, m in enumerate(medians):
            ax.text(m, y, f"  {m:,.0f}/s ({m / limit.median:.0%})", va="center", fontsize=9)
        ax.invert_yaxis()
        ax.set_xlim(0, max(medians) * 1.35)
        ax.set_xlabel("messages (actions) per second, median of runs; bars: min-max")
        ax.set_title("Throughput vs the pass-through limit (200k actions, 1,000 games)")
    fig.tight_layout()
    path = directory / "throughput.png"
    fig.savefig(path)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=110)
    styles = {
        "raw": ("raw produce -> consume round trip", "#999999", "-"),
        "idle": ("one player, idle dataflow", "#3b75af", "-"),
        "raw loaded": ("raw round trip, same partition, same load", "#999999", "--"),
        "dead letter loaded": ("its dead letter: both hops, no rules, same load", "#5aa05a", "--"),
        "loaded": ("one player, 2,000 actions/s background", "#d9822b", "-"),
    }
    for name, (label, colour, line) in styles.items():
        samples = sorted(results.samples_ms[name])
        if samples:
            share = [(i + 1) / len(samples) for i in range(len(samples))]
            ax.plot(samples, share, label=label, color=colour, linestyle=line)
    ax.axhline(0.99, color="#cccccc", lw=0.8, ls="--")
    ax.text(ax.get_xlim()[1], 0.99, "p99 ", ha="right", va="bottom", fontsize=8, color="#777777")
    ax.set_xscale("log")
    ax.set_xlabel("round trip, ms (log scale)")
    ax.set_ylabel("share of actions answered")
    ax.set_title("Latency: action -> its state, closed loop (CDF)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    path = directory / "latency.png"
    fig.savefig(path)
    plt.close(fig)
    written.append(path)
    return written
