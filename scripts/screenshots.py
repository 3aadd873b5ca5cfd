"""Take the screenshots of docs/screenshots/ from the demo académie (`make screenshots`).

Run after `make demo`: the script starts the app itself (gunicorn, same environment, a free
loopback port), drives Debian's Chromium through Playwright, then stops the app.

- The browser is told the portal lives at the académie's official address (from the
  blueprint, 127.0.0.1:8000 for the demo) and reaches it through the app's own port used as
  an HTTP proxy. The pages therefore look as they do in production, without the "this is not
  the official address" warning, whatever port the app got and even while `make run` holds
  port 8000.
- Léa's dashboard is shown with two favourites, pinned through the page as she would. The
  favourites the script pinned are removed again at the end, so the demo is left as it was
  (apart from the sign-ins, which the audit trail records like any other).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
BLUEPRINT = BASE_DIR / "blueprints" / "demo.yaml"
OUTPUT_DIR = BASE_DIR / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Everything goes through the app as a proxy: keep Chromium's own requests out of it.
    "--disable-features=AutofillServerCommunication",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Services Léa pins for her screenshot, in this order.
PUPIL_FAVOURITES = ["messagerie", "ent"]
STARTUP_TIMEOUT_SECONDS = 30


def say(line: str) -> None:
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_app(port: int) -> Iterator[str]:
    """Serve the app with gunicorn on ``port`` until the block ends; yield its address."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "convergence.settings"}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(BASE_DIR / "src"), env.get("PYTHONPATH")])
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "convergence.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--threads",
        "4",
    ]
    address = f"127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(  # noqa: S603 (fixed command, no shell)
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_answering(server, f"http://{address}/connexion/", log)
            yield address
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_answering(server: subprocess.Popen[Any], url: str, log: Any) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"The app stopped before answering:\n{log.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    log.seek(0)
    raise SystemExit(
        f"The app did not answer {url} within {STARTUP_TIMEOUT_SECONDS} s:\n{log.read()}"
    )


def demo_logins() -> dict[str, tuple[str, str]]:
    """Login and password of each demo person, by blueprint key.

    Passwords come from the blueprint; logins are generated when the demo is loaded, so
    they are read from the database the app serves (before Playwright starts: Django refuses
    ORM calls from a thread running an event loop).
    """
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convergence.settings")
    sys.path.insert(0, str(BASE_DIR / "src"))
    django.setup()
    from convergence.accounts.models import User

    people = yaml.safe_load(BLUEPRINT.read_text(encoding="utf-8"))["people"]
    logins = {}
    for person in people:
        if not person.get("password"):
            continue
        user = User.objects.filter(
            first_name=person["first_name"], last_name=person["last_name"]
        ).first()
        if user is None:
            raise SystemExit("The demo is not loaded: run `make demo` first.")
        logins[person["key"]] = (user.login, person["password"])
    return logins


def official_host() -> str:
    host: str = yaml.safe_load(BLUEPRINT.read_text(encoding="utf-8"))["academie"]["official_host"]
    return host


def take_screenshots(app_address: str, logins: dict[str, tuple[str, str]]) -> list[Path]:
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    portal = f"http://{official_host()}"

    def new_page(browser: Browser, **options: Any) -> Page:
        context = browser.new_context(
            base_url=portal,
            proxy={"server": f"http://{app_address}", "bypass": "<-loopback>"},
            locale="fr-FR",
            timezone_id="Europe/Paris",
            color_scheme="light",
            **options,
        )
        context.set_default_timeout(15_000)
        return context.new_page()

    def sign_in(page: Page, key: str) -> None:
        login, password = logins[key]
        page.goto("/connexion/")
        page.locator("input[name=login]").fill(login)
        page.locator("input[name=password]").fill(password)
        page.locator("input[name=password]").press("Enter")
        expect(page).to_have_url(f"{portal}/")

    def sign_out(page: Page) -> None:
        page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(f"{portal}/connexion/")
        page.context.close()

    def shoot(page: Page, name: str) -> Path:
        # Icons are CSS masks, fetched after the page: wait for them as for the fonts.
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready.then(() => true)")
        path = OUTPUT_DIR / name
        page.screenshot(path=path, full_page=True, animations="disabled")
        return path

    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )

        page = new_page(browser, viewport=DESKTOP)
        page.goto("/connexion/")
        taken.append(shoot(page, "connexion.png"))
        page.context.close()

        page = new_page(browser, viewport=DESKTOP)
        sign_in(page, "lea")
        favourites = page.locator("#favoris")
        pinned_here = []
        for slug in PUPIL_FAVOURITES:
            if favourites.locator(f"[data-slug='{slug}']").count():
                continue
            with page.expect_response(f"**/favoris/{slug}/epingler/"):
                page.locator(f"#service-{slug}").get_by_role("button", name="Épingler").click()
            pinned_here.append(slug)
            expect(favourites.locator(f"[data-slug='{slug}']")).to_be_visible()
        page.mouse.move(0, 0)
        taken.append(shoot(page, "tableau-de-bord-eleve.png"))
        for slug in pinned_here:
            favourite = favourites.locator(f"[data-slug='{slug}']")
            with page.expect_response(f"**/favoris/{slug}/retirer/"):
                favourite.get_by_role("button", name=re.compile("^Retirer")).click()
            expect(favourite).to_have_count(0)
        sign_out(page)

        page = new_page(browser, viewport=DESKTOP)
        sign_in(page, "sophie")
        taken.append(shoot(page, "tableau-de-bord-enseignant.png"))
        sign_out(page)

        # Karim on his phone: one section per child, and the switcher between them.
        page = new_page(
            browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
        )
        sign_in(page, "karim")
        taken.append(shoot(page, "tableau-de-bord-parent.png"))
        page.context.close()

        page = new_page(
            browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
        )
        page.goto("/connexion/")
        taken.append(shoot(page, "telephone.png"))
        page.context.close()

        browser.close()
    return taken


def main() -> None:
    logins = demo_logins()
    with running_app(free_port()) as address:
        for path in take_screenshots(address, logins):
            say(str(path.relative_to(BASE_DIR)))


if __name__ == "__main__":
    main()
