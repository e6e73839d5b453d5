// Copy buttons on code blocks, and open every disclosure widget before printing.
"use strict";

function announce(message) {
  const status = document.getElementById("copy-status");
  status.textContent = "";
  window.setTimeout(() => { status.textContent = message; }, 50);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

function setUpCopyButtons() {
  for (const button of document.querySelectorAll("button.copy")) {
    const code = button.parentElement.querySelector("pre");
    button.hidden = false;
    button.setAttribute("aria-label", "Copy this code");
    button.addEventListener("click", async () => {
      const copied = await copyText(code.textContent);
      button.textContent = copied ? "Copied" : "Copy failed";
      announce(copied ? "Code copied to the clipboard." : "Could not copy; select the code instead.");
      window.setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }
}

window.addEventListener("beforeprint", () => {
  for (const details of document.querySelectorAll("details")) {
    details.open = true;
  }
});

document.addEventListener("DOMContentLoaded", setUpCopyButtons);
