#!/usr/bin/python3
"""The web console in a real browser (headless Chromium through chromedriver and Selenium, Debian's
chromium, chromium-driver and python3-selenium), for tests/integration/web_console.sh.

Usage: web_browser.py URL USER PASSWORD SERVICE SVCMGR_SOCKET SCREENSHOT KILL_COMMAND

Loads the page, checks what it shows (both nodes, the service and its owner as svcmgr reports it, read-only
before a login), logs in, puts the peer b in standby and back by clicks, relocates SERVICE to the other node by clicking, sees the page follow, keeps a
screenshot, then runs KILL_COMMAND (which kills the node SERVICE runs on now) and measures how long the open
page takes to show the failover after svcmgr (SVCMGR_SOCKET, the console's node) reports it.
Prints the figures; exits 1 with a reason on the first thing that is not as expected."""
import json, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qctl  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def fail(why):
    print("FAIL: " + why, flush=True)
    sys.exit(1)


def svcmgr_service(sock, name):
    s = qctl.connect(sock)
    try:
        qctl.send(s, "services")
        reply = qctl.recv(s)
    finally:
        s.close()
    for svc in (reply or {}).get("services", []):
        if svc.get("name") == name:
            return svc
    return None


def wait(driver, what, predicate, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = predicate()
            if v:
                return v
        except Exception:  # an element between two renders
            pass
        time.sleep(0.05)
    fail("timed out after %.0f s waiting for %s; the page says: %s" % (timeout, what, driver.find_element(By.TAG_NAME, "body").text[:1500]))


def row(driver, service):
    return driver.find_element(By.ID, "svc-" + service)


def attr(driver, element_id, name):
    """An attribute of the element with this id, read again if the page re-rendered it in between (the
    view streams four times a second, and each render replaces the rows)."""
    for _ in range(50):
        try:
            return driver.find_element(By.ID, element_id).get_attribute(name)
        except Exception:
            time.sleep(0.02)
    fail("no element %s" % element_id)


def main():
    url, user, password, service, sock, screenshot, kill = sys.argv[1:8]
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="castor-web-chromium.")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--ignore-certificate-errors", "--window-size=1280,900", "--user-data-dir=" + profile):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        started = time.time()
        driver.get(url)
        wait(driver, "the first render", lambda: driver.execute_script("return document.body.dataset.ready === '1'"), 15)
        usable_ms = driver.execute_script("return window.castor.firstRenderMs")
        print("page usable (first view rendered) %.0f ms after navigation start (goal: 300 ms); load call %.0f ms"
              % (usable_ms, (time.time() - started) * 1000), flush=True)

        truth = svcmgr_service(sock, service)
        if not truth or not truth.get("owner"):
            fail("svcmgr does not report %s with an owner: %s" % (service, truth))
        owner = truth["owner"]
        wait(driver, "%s shown on %s" % (service, owner), lambda: row(driver, service).get_attribute("data-owner") == owner, 5)
        state = attr(driver, "svc-" + service, "data-state")
        if state != truth["state"]:
            fail("the page shows %s %s, svcmgr says %s" % (service, state, truth["state"]))
        nodes = wait(driver, "the node cards", lambda: [e.get_attribute("id") for e in driver.find_elements(By.CSS_SELECTOR, "#nodes .card")], 5)
        print("nodes shown: %s; %s %s on %s, epoch %s" % (nodes, service, state, owner,
                                                         attr(driver, "svc-" + service, "data-epoch")), flush=True)
        if "node-a" not in nodes or "node-b" not in nodes:
            fail("both nodes should be shown: %s" % nodes)
        peer_state = attr(driver, "node-b", "data-state")
        if peer_state != "UP":
            fail("the peer b is shown %s, expected UP" % peer_state)
        if driver.find_elements(By.CSS_SELECTOR, "button.act"):
            fail("action buttons shown before a login")
        if not driver.find_element(By.ID, "login-form").is_displayed():
            fail("no login form over HTTPS")

        driver.find_element(By.ID, "login-user").send_keys(user)
        driver.find_element(By.ID, "login-password").send_keys(password)
        driver.find_element(By.ID, "login-button").click()
        wait(driver, "the login", lambda: driver.find_element(By.ID, "whoami").is_displayed(), 15)
        print("logged in: %s" % driver.find_element(By.ID, "whoami").text, flush=True)

        # Standby of the peer, from this node's console (carried to b in a's heartbeat), and back.
        def peer_says_standby():
            return "standby" in driver.find_element(By.ID, "node-b").text
        clicked = time.time()
        wait(driver, "a click on b's standby button", lambda: driver.find_element(By.ID, "act-standby-b").click() or True, 5)
        wait(driver, "b shown in standby", peer_says_standby, 15)
        wait(driver, "%s off b" % service, lambda: row(driver, service).get_attribute("data-owner") == "a"
             and row(driver, service).get_attribute("data-state") == "started", 30)
        print("standby of the peer b by a click on a's console: shown in standby, %s on a, %.2f s after the click"
              % (service, time.time() - clicked), flush=True)
        wait(driver, "a click on b's leave-standby button", lambda: driver.find_element(By.ID, "act-unstandby-b").click() or True, 5)
        wait(driver, "b shown out of standby", lambda: not peer_says_standby(), 15)
        owner = svcmgr_service(sock, service)["owner"]
        target = "b" if owner == "a" else "a"
        label = wait(driver, "the relocate button's label", lambda: driver.find_element(By.ID, "act-relocate-" + service).text, 5)
        if label != "Relocate to " + target:
            fail("the relocate button says '%s', expected 'Relocate to %s'" % (label, target))
        clicked = time.time()
        wait(driver, "a click on the relocate button", lambda: driver.find_element(By.ID, "act-relocate-" + service).click() or True, 5)
        wait(driver, "%s started on %s after the relocate" % (service, target),
             lambda: row(driver, service).get_attribute("data-owner") == target
             and row(driver, service).get_attribute("data-state") == "started", 30)
        print("relocate %s to %s: shown started there %.2f s after the click; message: %s"
              % (service, target, time.time() - clicked, driver.find_element(By.ID, "message").text), flush=True)
        truth = svcmgr_service(sock, service)
        if truth.get("owner") != target:
            fail("the page shows %s on %s but svcmgr says %s" % (service, target, truth))
        driver.save_screenshot(screenshot)
        print("screenshot: %s" % screenshot, flush=True)

        # The failover: the node that runs the service now dies; the console's node takes it over.
        driver.execute_script("""
          window.castorChanged = null;
          const target = arguments[0], svc = arguments[1];
          new MutationObserver(() => {
            const r = document.getElementById('svc-' + svc);
            if (window.castorChanged === null && r && r.dataset.owner === target && r.dataset.state === 'started')
              window.castorChanged = Date.now();
          }).observe(document.getElementById('services'), {subtree: true, childList: true, attributes: true});
        """, owner, service)
        subprocess.run(kill, shell=True, check=True)
        killed = time.time()
        daemon_at = None
        while time.time() - killed < 30:
            s = svcmgr_service(sock, service)
            if s and s.get("owner") == owner and s.get("state") == "started":
                daemon_at = time.time()
                break
            time.sleep(0.02)
        if daemon_at is None:
            fail("svcmgr on %s did not report %s started within 30 s of the kill" % (owner, service))
        page_ms = wait(driver, "the failover on the page", lambda: driver.execute_script("return window.castorChanged"), 10)
        shown = page_ms / 1000.0 - daemon_at
        print("failover: svcmgr reported %s started on %s %.2f s after the kill; the open page showed it %.0f ms "
              "later (goal: within 1 s)" % (service, owner, daemon_at - killed, shown * 1000), flush=True)
        if shown > 5:
            fail("the page showed the failover %.1f s after svcmgr" % shown)
        driver.save_screenshot(screenshot.replace(".png", "-failover.png"))
    finally:
        driver.quit()
        subprocess.run(["rm", "-rf", profile])
    print("browser: pass", flush=True)


if __name__ == "__main__":
    main()
