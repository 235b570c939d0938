"""The local console in a real browser: headless Chromium driven over the Chrome DevTools
Protocol (websocket-client), against a running dev stack.

    console_browser.py <gateway URL> <chromium> <screenshot folder> <stripe fixture>

Send a webhook: it appears in the live list without a reload; open it with the keyboard; its
body and attempts are right. A poison message appears in the dead-letter view; redriving it
changes the queue view. A replay is answered and linked to its original. Screenshots of each
step go to the folder. Exits non-zero, saying what was wrong, on the first failure.
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

STEP_TIMEOUT = 60


class Failed(Exception):
    pass


class Browser:
    """One headless Chromium with one page, driven over CDP."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="hookline-chromium-")
        # Without the background-networking flags Chromium waits on services it cannot reach
        # on a closed network.
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--user-data-dir=" + self.profile,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.process.poll() is not None:
                raise Failed("chromium exited at start (code %s)" % self.process.returncode)
            if time.time() > deadline:
                raise Failed("chromium did not open its DevTools port within 30 s")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )

    def call(self, method, params=None):
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == wanted:
                if "error" in message:
                    raise Failed("%s: %s" % (method, message["error"]))
                return message.get("result", {})

    def eval(self, expression):
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise Failed("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait(self, expression, what, timeout=STEP_TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.2)
        raise Failed("waited %d s for %s (%s)" % (timeout, what, expression))

    def loaded(self):
        self.wait("document.readyState === 'complete' && !!document.querySelector('footer')", "the page to load")

    def open(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait("location.href === %s" % json.dumps(url), "navigation to " + url)
        self.loaded()

    def click_and_load(self, selector):
        """Clicks what submits a form or follows a link, and waits for the next page."""
        self.eval("window.__before = true")
        found = self.eval("!!document.querySelector(%s)" % json.dumps(selector))
        if not found:
            raise Failed("nothing matches %s on %s" % (selector, self.eval("location.href")))
        self.eval("document.querySelector(%s).click()" % json.dumps(selector))
        self.wait("window.__before !== true", "the page after clicking " + selector)
        self.loaded()

    def key(self, key, code, key_code):
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code}
            if kind == "keyDown" and len(key) == 1:
                params["text"] = key
            self.call("Input.dispatchKeyEvent", params)

    def text(self, selector):
        return self.eval(
            "(document.querySelector(%s) || {textContent: null}).textContent" % json.dumps(selector)
        )

    def screenshot(self, folder, name):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        path = os.path.join(folder, name + ".png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print("screenshot", path)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def api(gateway, path, body):
    request = urllib.request.Request(
        gateway + "/_hookline/api" + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return json.load(urllib.request.urlopen(request))


def run(gateway, chromium, shots, fixture):
    console = gateway + "/_hookline"
    browser = Browser(chromium)
    try:
        # The live list: a webhook sent while the page is open appears without a reload.
        browser.open(console + "/")
        browser.wait("document.getElementById('live') && !document.getElementById('live').hidden", "the live marker")
        browser.eval("window.__same_page = true")
        sent = api(gateway, "/send", {"provider": "stripe", "event": "invoice.paid"})
        if sent["status"] != 200:
            raise Failed("the gateway answered %s to the sample" % sent["status"])
        delivery = sent["delivery"]
        row = "#rows tr[data-key=%s]" % json.dumps(delivery)
        browser.wait("!!document.querySelector(%s)" % json.dumps(row), "the new row in the live list")
        if not browser.eval("window.__same_page === true"):
            raise Failed("the list reloaded instead of updating in place")
        browser.wait(
            "document.querySelector(%s).textContent.includes('processed')" % json.dumps(row),
            "the row to say processed",
        )
        browser.screenshot(shots, "01-deliveries-live")

        # Keyboard: / focuses the search, j the newest row, Enter opens it.
        browser.key("/", "Slash", 191)
        if browser.eval("document.activeElement.id") != "search":
            raise Failed("/ did not focus the search box")
        browser.eval("document.activeElement.blur()")
        browser.key("j", "KeyJ", 74)
        focused = browser.eval("document.activeElement.getAttribute('href') || ''")
        if not focused.endswith("/deliveries/" + delivery):
            raise Failed("j focused %r, not the newest delivery" % focused)
        browser.eval("window.__before = true")
        browser.key("Enter", "Enter", 13)
        browser.wait("window.__before !== true", "Enter to open the delivery")
        browser.loaded()

        # The delivery's page: body as sent (the sample as a new event: its id renewed, as
        # hookline_local::fresh makes each send), the attempt, the signature masked.
        shown = json.loads(browser.text("#body-raw") or "null")
        sample = json.loads(fixture)
        if not isinstance(shown, dict) or shown.get("id") == sample["id"]:
            raise Failed("the raw body is not the sample as a new event: %r" % shown)
        if dict(shown, id=sample["id"]) != sample:
            raise Failed("the raw body differs from the sample beyond its id")
        if '"invoice.paid"' not in (browser.text("#body-json") or ""):
            raise Failed("the formatted body does not show the event type")
        browser.wait("document.getElementById('timeline').textContent.includes('processed')", "the attempt")
        attempts = browser.eval(
            "Array.from(document.querySelectorAll('#timeline tr')).map(r => r.textContent)"
        )
        if not any("processed" in a and "stripe" in a for a in attempts):
            raise Failed("no processed attempt: %s" % attempts)
        page = browser.eval("document.body.textContent")
        if "masked" not in page or "v1=" in page:
            raise Failed("the signature is not masked")
        browser.screenshot(shots, "02-delivery")

        # Replay the original bytes: answered, and linked to the original.
        browser.click_and_load("button[value=original]")
        notice = browser.text(".notice") or ""
        if "answered 200" not in notice:
            raise Failed("the replay's notice says %r" % notice)
        if delivery not in browser.eval("document.getElementById('summary').innerHTML"):
            raise Failed("the replay does not link to its original")
        browser.wait("document.getElementById('timeline').textContent.includes('processed')", "the replay processed")
        browser.screenshot(shots, "03-replay")
        browser.open(console + "/deliveries/" + delivery)
        browser.click_and_load("button[value=resigned]")
        if "answered 200" not in (browser.text(".notice") or ""):
            raise Failed("the re-signed replay was not answered 200")

        # A poison message: it reaches the dead-letter view; a redrive changes the queue view.
        poison = api(gateway, "/send", {"provider": "acme", "body": '{"poison":"browser"}'})
        browser.open(console + "/queues")
        browser.eval("window.__same_page = true")
        dead_row = "#queue-acme tbody tr .row-actions"
        browser.wait("!!document.querySelector(%s)" % json.dumps(dead_row), "the poison message in the DLQ view")
        if not browser.eval("window.__same_page === true"):
            raise Failed("the queues page reloaded instead of updating in place")
        before = browser.text("#queue-acme .queue-grid")
        if "Redrive all (1)" not in browser.text("#queue-acme"):
            raise Failed("the redrive-all button does not count the dead letter")
        browser.screenshot(shots, "04-dead-letter")
        browser.click_and_load("#queue-acme tbody tr .row-actions button[type=submit]")
        notice = browser.text(".notice") or ""
        if "Redrove" not in notice:
            raise Failed("the redrive's notice says %r" % notice)
        after = browser.text("#queue-acme .queue-grid")
        if after == before:
            raise Failed("the queue view did not change: %s" % after)
        if browser.eval("!!document.querySelector(%s)" % json.dumps(dead_row)):
            raise Failed("the redriven message is still listed in the DLQ")
        browser.screenshot(shots, "05-redriven")
        browser.open(console + "/deliveries/" + poison["delivery"])
        browser.wait("document.getElementById('timeline').textContent.includes('redriven')", "the redrive on the timeline")
        timeline = browser.text("#timeline")
        for shown in ("handler failed", "poison message refused", "moved to the DLQ", "redriven"):
            if shown not in timeline:
                raise Failed("the poison's timeline lacks %r: %s" % (shown, timeline))
        browser.screenshot(shots, "06-poison-timeline")

        # The send form.
        browser.open(console + "/send")
        browser.eval("document.querySelector('select[name=event]').value = 'charge.refunded'")
        browser.screenshot(shots, "07-send")
        browser.click_and_load("form[action$='/send'] button[type=submit]")
        if "answered 200" not in (browser.text(".notice") or ""):
            raise Failed("the send form's delivery was not answered 200")
        if "charge.refunded" not in browser.eval("document.body.textContent"):
            raise Failed("the sent sample is not charge.refunded")
        browser.open(console + "/")
        browser.screenshot(shots, "08-deliveries")
    finally:
        browser.close()


def main():
    gateway, chromium, shots, fixture = sys.argv[1:5]
    os.makedirs(shots, exist_ok=True)
    with open(fixture) as f:
        body = f.read()
    try:
        run(gateway, chromium, shots, body)
    except Failed as failure:
        print("console browser test failed:", failure, file=sys.stderr)
        sys.exit(1)
    print("console browser test ok")


if __name__ == "__main__":
    main()
