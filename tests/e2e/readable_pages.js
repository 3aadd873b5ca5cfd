// The checks of test_readable_pages.py, run in the page; see the test module's docstring for
// what they find and why this way. Returns {problems: [{problem, html}], iconOnly: [...]}:
// the icon-only buttons with an aria-label and a tooltip, whose tooltip the test then focuses.
() => {
  const root = document.documentElement;
  const snippet = (element) => element.outerHTML.replace(/\s+/g, " ").slice(0, 240);
  const normal = (text) => (text || "").replace(/\s+/g, " ").trim().toLowerCase();
  const squeezed = (text) => text.replace(/\s/g, "");

  // Geometry: boxes are [left, top, right, bottom] in the viewport's coordinates.
  const intersect = (a, b) => [
    Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3]),
  ];
  const area = (box) => Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
  const boxOf = (rect) => [rect.left, rect.top, rect.right, rect.bottom];
  function paddingBox(element) {
    const rect = element.getBoundingClientRect();
    const left = rect.left + element.clientLeft;
    const top = rect.top + element.clientTop;
    return [left, top, left + element.clientWidth, top + element.clientHeight];
  }
  // Overflow hidden or clip cuts; auto and scroll do not (their content is within reach).
  function clipsContent(style) {
    return ["hidden", "clip"].includes(style.overflowX) || ["hidden", "clip"].includes(style.overflowY);
  }
  // Hidden on purpose as a whole: clip (fr-sr-only) or clip-path.
  function clipsAll(style) {
    const clip = style.position === "absolute" && style.clip && style.clip !== "auto"
      && !/^rect\(auto,? auto,? auto,? auto\)$/.test(style.clip);
    return clip || (style.clipPath && style.clipPath !== "none");
  }
  // The ancestors that clip what `element` holds, itself first; `mode` is the position of
  // what is held: an absolutely positioned box escapes the non-positioned ancestors, a fixed
  // one all of them.
  function* clippers(element, mode) {
    for (let node = element; node && node !== root && node !== document.body; node = node.parentElement) {
      if (mode === "fixed") return;
      const style = getComputedStyle(node);
      if (mode === "absolute" && style.position === "static" && style.transform === "none") continue;
      mode = style.position;
      if (clipsAll(style) || clipsContent(style)) yield [node, style];
    }
  }
  // Where what `element` holds can show: not above or left of the page (a skip link waiting
  // for the focus), inside every clipping ancestor. Below and right are in reach: a page
  // too wide is a problem of its own.
  function clipBox(element, mode) {
    let box = [-window.scrollX, -window.scrollY, Infinity, Infinity];
    for (const [node, style] of clippers(element, mode)) {
      if (clipsAll(style)) return [0, 0, 0, 0];
      box = intersect(box, paddingBox(node));
    }
    return box;
  }
  function visibleShare(rects, box) {
    let total = 0;
    let shown = 0;
    for (const rect of rects) {
      total += area(boxOf(rect));
      shown += area(intersect(boxOf(rect), box));
    }
    return total === 0 ? 0 : shown / total;
  }
  function shows(element) {
    return visibleShare([element.getBoundingClientRect()],
      clipBox(element.parentElement, getComputedStyle(element).position));
  }
  function textRects(textNode) {
    const range = document.createRange();
    range.selectNodeContents(textNode);
    return Array.from(range.getClientRects()).filter((rect) => rect.width > 0 && rect.height > 0);
  }
  function styleShows(element) {
    return element.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  }
  const hidden = (element) => element.closest('[aria-hidden="true"], [inert]') !== null;

  // The text of `element` a person sees: its text nodes at least half inside their clip box,
  // and the alternative of its visible images.
  function visibleText(element) {
    const parts = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.tagName === "IMG" && node.alt && styleShows(node) && shows(node) >= 0.5) {
          parts.push(node.alt);
        }
      } else if (node.textContent.trim() && node.parentElement && styleShows(node.parentElement)
                 && visibleShare(textRects(node), clipBox(node.parentElement, "static")) >= 0.5) {
        parts.push(node.textContent);
      }
    }
    return parts.join(" ");
  }
  // The accessible name, as far as these pages need it: aria-labelledby, aria-label, the
  // labels of a field, the value of an input button, else the content (without what is
  // aria-hidden) or the title.
  function textOf(element) {
    const clone = element.cloneNode(true);
    clone.querySelectorAll('[aria-hidden="true"], script, style, template').forEach((node) => node.remove());
    clone.querySelectorAll("img[alt]").forEach((image) => image.replaceWith(` ${image.alt} `));
    clone.querySelectorAll("br").forEach((line) => line.replaceWith(" "));
    return clone.textContent;
  }
  const BUTTON_INPUTS = ["submit", "button", "reset", "image"];
  function isField(element) {
    return ["INPUT", "SELECT", "TEXTAREA"].includes(element.tagName)
      && !(element.tagName === "INPUT" && BUTTON_INPUTS.includes(element.type));
  }
  function labelledBy(element) {
    const ids = (element.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id)).filter(Boolean);
  }
  const inputText = (input) => (input.type === "image" ? input.alt : input.value);
  function accessibleName(element) {
    const referenced = labelledBy(element);
    if (referenced.length) return referenced.map(textOf).join(" ");
    const label = element.getAttribute("aria-label");
    if (label && label.trim()) return label;
    if (isField(element)) {
      const labels = Array.from(element.labels || []);
      if (labels.length) return labels.map(textOf).join(" ");
      return element.getAttribute("title") || element.getAttribute("placeholder") || "";
    }
    if (element.tagName === "INPUT") return inputText(element);
    return textOf(element).trim() || element.getAttribute("title") || "";
  }
  // RGAA 11.1: a search field may take its visible label from the button beside it (its own
  // label hidden, as in the DSFR's search bar), when its name contains the button's text.
  function adjacentButtonText(field) {
    if (!field.closest('[role="search"], .fr-search-bar')) return "";
    let next = field.nextElementSibling;
    while (next && !next.matches('button, input[type="submit"]')) next = next.nextElementSibling;
    if (!next) return "";
    return next.tagName === "INPUT" ? next.value : visibleText(next);
  }
  // What a person sees of that name: the element's visible text, or its visible labels.
  function shownText(element) {
    const referenced = labelledBy(element);
    if (referenced.length) return referenced.map(visibleText).join(" ");
    if (isField(element)) {
      const label = Array.from(element.labels || []).map(visibleText).join(" ");
      return label.trim() ? label : adjacentButtonText(element);
    }
    if (element.tagName === "INPUT") return shows(element) >= 0.5 ? inputText(element) : "";
    return visibleText(element);
  }
  function tooltipOf(element) {
    const ids = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id))
      .find((node) => node && node.getAttribute("role") === "tooltip" && node.textContent.trim());
  }

  const problems = [];
  const flagged = [];
  const iconOnly = [];
  document.querySelectorAll("[data-readable-icon-only]")
    .forEach((element) => element.removeAttribute("data-readable-icon-only"));
  // While a modal is open (the menu on a phone), what it covers is out of reach: only it counts.
  const scope = document.querySelector(".fr-modal--opened, dialog[open]") || document.body;

  // 1. Interactive elements whose name is not text a person sees.
  const interactive = scope.querySelectorAll(
    'a[href], button, input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="link"]'
  );
  for (const element of interactive) {
    if (hidden(element)) continue;
    const field = isField(element);
    if (field) {
      // A field may be see-through (the DSFR's checkboxes and radios): its label is what shows.
      if (!element.checkVisibility({ visibilityProperty: true })) continue;
      const box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0 && !Array.from(element.labels || []).some(styleShows)) continue;
    } else if (!styleShows(element) || shows(element) === 0) {
      continue;  // nobody sees it (a skip link before it gets the focus, a closed menu)
    }
    const name = normal(accessibleName(element));
    const shown = normal(shownText(element));
    let problem = null;
    if (!name) {
      problem = "has no accessible name";
    } else if (!shown) {
      const tooltip = tooltipOf(element);
      if (!field && element.getAttribute("aria-label") && tooltip) {
        element.setAttribute("data-readable-icon-only", String(iconOnly.length));
        iconOnly.push({ index: iconOnly.length, tooltip: tooltip.id, html: snippet(element) });
        flagged.push(element);
        continue;
      }
      problem = field
        ? `its name « ${name} » is not in a visible label`
        : `its name « ${name} » is not visible text (icon only or text hidden)`;
    } else if (!squeezed(name).includes(squeezed(shown))) {
      problem = `its visible text « ${shown} » is not part of its name « ${name} »`;
    }
    if (problem) {
      flagged.push(element);
      problems.push({ problem, html: snippet(element) });
    }
  }

  // 2. Text cut off: sticking out of the first ancestor that clips it (what is already
  // reported above, as an icon-only button, is not reported twice).
  const cut = new Set();
  const related = (a, b) => a.contains(b) || b.contains(a);
  const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || !parent || hidden(parent) || !styleShows(parent)) continue;
    const rects = textRects(node);
    if (!rects.length) continue;
    const first = clippers(parent, "static").next();
    if (first.done) continue;
    const [clipper, style] = first.value;
    if (clipsAll(style) || clipper.clientWidth <= 2 || clipper.clientHeight <= 2) continue;
    const box = paddingBox(clipper);
    const sticksOut = rects.some((rect) => rect.left < box[0] - 1 || rect.right > box[2] + 1
      || rect.top < box[1] - 1 || rect.bottom > box[3] + 1);
    if (sticksOut && !cut.has(clipper) && !flagged.some((element) => related(element, clipper))) {
      cut.add(clipper);
      problems.push({
        problem: `text « ${node.textContent.trim().slice(0, 60)} » is cut off by its box `
          + `(overflow ${style.overflowX}/${style.overflowY}, ${clipper.clientWidth}×${clipper.clientHeight} px)`,
        html: snippet(clipper),
      });
    }
  }

  // 3. A page wider than the window, with the deepest elements that stick out.
  const width = window.innerWidth;
  const rightEdge = (element) => Math.round(element.getBoundingClientRect().right + window.scrollX);
  if (root.scrollWidth > width) {
    const wide = Array.from(document.body.querySelectorAll("*")).filter((element) =>
      rightEdge(element) > width + 1 && styleShows(element)
      && !Array.from(element.children).some((child) => rightEdge(child) > width + 1));
    problems.push({
      problem: `the page is ${root.scrollWidth} px wide in a ${width} px window; sticking out`,
      html: wide.slice(0, 3)
        .map((element) => `${snippet(element).slice(0, 120)} (right edge ${rightEdge(element)} px)`)
        .join(" ; "),
    });
  }
  return { problems, iconOnly };
}
