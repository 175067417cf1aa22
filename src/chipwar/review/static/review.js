// chipwar review: toggles, cards and cue highlights. Reads the page, never writes markup from text:
// cards are rendered (escaped) at build time and only shown or hidden here.
"use strict";
(function () {
  const cards = document.getElementById("cards");
  const hint = document.getElementById("hint");
  const closer = document.getElementById("close");
  if (closer) closer.addEventListener("click", () => { show([], false); history.replaceState(null, "", location.pathname); });

  function marks(key) {
    return Array.from(document.querySelectorAll(".u")).filter((el) => el.dataset.k === key);
  }

  function clear() {
    document.querySelectorAll(".card:not([hidden])").forEach((c) => { c.hidden = true; });
    document.querySelectorAll(".sel, .cue-on, .flash").forEach((el) => el.classList.remove("sel", "cue-on", "flash"));
  }

  function cues(claim) {
    return Array.from(document.querySelectorAll("[data-cues]")).filter(
      (el) => el.dataset.cues.split(" ").some((c) => c.startsWith(claim + "-cue")));
  }

  function show(keys, scroll) {
    if (!cards) return;
    clear();
    let first = null;
    let last = hint;
    for (const key of keys) {
      const card = document.getElementById("card-" + key);
      if (!card) continue;
      card.hidden = false;
      if (last) last.after(card);  // innermost span first, in the order clicked
      last = card;
      first = first || card;
      marks(key).forEach((el) => el.classList.add("sel"));
      cues(key).forEach((el) => el.classList.add("cue-on"));
    }
    if (hint) hint.hidden = first !== null;
    if (closer) closer.hidden = first === null;
    cards.classList.toggle("open", first !== null);
    if (first && scroll) {
      const mark = marks(keys[0])[0];
      if (mark) {  // near the top, clear of the sticky legend and of the card sheet on a phone
        mark.scrollIntoView({block: "start"});
        window.scrollBy(0, -Math.round(window.innerHeight * 0.2));
      }
      if (getComputedStyle(cards).position === "fixed") cards.scrollTop = 0; else first.scrollIntoView({block: "nearest"});
    }
  }

  function fromHash() {
    const key = decodeURIComponent(location.hash.slice(1));
    if (!key) return;
    const cue = key.match(/^(.*)-cue\d+$/);
    if (cue) {
      show([cue[1]], false);
      const segs = Array.from(document.querySelectorAll("[data-cues]")).filter((el) => el.dataset.cues.split(" ").includes(key));
      segs.forEach((el) => el.classList.add("cue-on", "flash"));
      if (segs[0]) segs[0].scrollIntoView({block: "center"});
      return;
    }
    if (document.getElementById("card-" + key)) show([key], true);
  }

  const text = document.getElementById("text");
  if (text) {
    text.addEventListener("click", (event) => {
      const keys = [];
      let zone = null;
      for (let el = event.target; el && el !== text; el = el.parentElement) {
        if (el.classList.contains("u") && !el.classList.contains("off")) keys.push(el.dataset.k);
        if (el.dataset.z) zone = el.dataset.z;
      }
      if (!keys.length && zone && !document.body.classList.contains("nozones")) keys.push(zone);  // text outside any span: its zone
      if (keys.length) {
        show(keys, false);
        history.replaceState(null, "", "#" + keys[0]);
      }
    });
  }

  document.querySelectorAll("input[data-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = box.dataset.layer;
      const label = box.dataset.label;
      if (label === undefined) {
        document.querySelectorAll('input[data-layer="' + layer + '"][data-label]').forEach((b) => { b.checked = box.checked; });
      }
      document.querySelectorAll(".u." + layer).forEach((el) => {
        if (label !== undefined && el.dataset.lab !== label) return;
        el.classList.toggle("off", !box.checked);
      });
      if (layer === "zones") document.body.classList.toggle("nozones", !box.checked);
    });
  });

  const hideSame = document.querySelector("input[data-hide-same]");
  if (hideSame) {
    hideSame.addEventListener("change", () => {
      document.querySelectorAll(".u").forEach((el) => {
        if (el.dataset.lab === "same") el.classList.toggle("off", hideSame.checked);
      });
    });
  }

  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
