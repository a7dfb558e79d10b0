"""Sentences shared by the HTML and Markdown reports: the method and the models used.

The models are named as docs/hazards.md names them, and each points to its source in
docs/sources.md; a test checks that the rendered reports carry these names.
"""

from __future__ import annotations

from georesil.hazards.gmpe import LIN2009_DOMAIN
from georesil.report.data import ReportData

__all__ = ["MODEL_NAMES", "NO_LOSS_EXCEEDANCE", "NO_SEISMIC_MODEL", "SEISMIC_LEAD",
           "method_lines", "seismic_lead"]

#: The hazard models as docs/hazards.md names them; each appears in the method section.
MODEL_NAMES = ("alternating-renewal", "exponential", "Lin (2009)",
               "Wells & Coppersmith (1994)", "lognormal", "HAZUS", "Gutenberg–Richter")

SEISMIC_LEAD = (
    "Median ground motion (Lin 2009 crustal model for Taiwan) at each site for the scenario "
    "quakes, with a finite rupture — a rectangle sized for the magnitude by Wells & "
    "Coppersmith (1994), centred on the hypocentre and taken to extend towards each site "
    "(an upper envelope of the shaking) — and the probability the site fails (lognormal "
    "fragility); then the loss exceedance from the simulated years.")

NO_SEISMIC_MODEL = (
    "No seismic model applies unless you give one: the topology has no scenario quakes "
    "(scenarios with a quake). georesil's ground-motion model, Lin (2009), is fitted to "
    "Taiwan's earthquakes; elsewhere give your own scenario quakes and fail lists, and check "
    "that the model suits your region.")

NO_LOSS_EXCEEDANCE = ("No tier-1 outage happened in any simulated year: the loss-exceedance "
                      "table has no point above zero.")


def seismic_lead(data: ReportData) -> str:
    """The seismic section's lead: the model used, or why none applies.

    Lin (2009) is named only for quakes in its domain; those outside are called an
    extrapolation.
    """
    if not data.quakes:
        return NO_SEISMIC_MODEL
    lat0, lat1, lon0, lon1 = LIN2009_DOMAIN
    outside = [q.scenario for q in data.quakes
               if not (lat0 <= q.quake.lat <= lat1 and lon0 <= q.quake.lon <= lon1)]
    if not outside:
        return SEISMIC_LEAD
    return (SEISMIC_LEAD + f" Scenario quakes outside Taiwan ({', '.join(outside)}) lie "
            "outside the domain Lin (2009) was fitted to: their shaking is an extrapolation.")


def method_lines(data: ReportData) -> list[str]:
    """The method section, one item per line (`backticks` mark commands and paths)."""
    snap, annual = data.inputs.snapshot, data.inputs.annual
    sim = (f"{snap.trials:,} trials, seed {snap.seed}, mode {snap.mode}" if snap
           else "not supplied")
    yrs = f"{annual.years:,} simulated years, seed {annual.seed}" if annual else "not supplied"
    return [
        f"Topology `{data.topology_name}`; figures marked [est.] in the topology file are "
        "engineering estimates, the others cite `docs/sources.md`.",
        "Analysis (`georesil analyze --json`): exhaustive evaluation of every single and "
        "double site/link failure, every zone and SRLG, and every named scenario, with the "
        "semantics of `docs/semantics.md`.",
        f"Snapshot availability (`georesil simulate --json`): {sim}.",
        f"Annual risk (`georesil simulate --years N --json`): {yrs}.",
        "Independent failures of sites and links: an alternating-renewal process (rate and "
        "mean repair time); zone outages with exponential durations, a power-zone outage "
        "darkening a site only when it outlasts the site's backup power, exp(−backup/mean) "
        "(`docs/hazards.md`).",
        "Likelihoods in §1 and §4: annual rates from those inputs; an SRLG cut is taken as "
        "its most exposed member's cut rate [est.]; a multi-element scenario without a quake "
        "is a coincidence of independent failures.",
        "Seismic: median PGA by Lin (2009) (`docs/sources.md#lin-2009`) at the rupture "
        "distance of a finite rupture sized by Wells & Coppersmith (1994) "
        "(`docs/sources.md#wells-coppersmith-1994`); lognormal fragility "
        "P = Φ(ln(PGA/θ)/β), HAZUS style (`docs/sources.md#hazus-5-1`), with each site's θ, β; "
        "sampled quakes follow a Gutenberg–Richter magnitude law per seismic source.",
        "Availability objectives: Uptime Institute Tier IV and III as commonly quoted "
        "(`docs/sources.md#uptime-tiers`).",
        "Drills: `georesil drill history --json` (journals under `.georesil/drills/`).",
        "Readiness: the runs `georesil readiness` and `georesil serve` saved under "
        "`.georesil/readiness/` (`latest.json`, `runs.jsonl`); the checks are listed in "
        "`docs/readiness.md`.",
        "Every number of this report, with the analysis and simulation output it was built "
        "from, is in `report.json`.",
    ]
