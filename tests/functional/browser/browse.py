#!/usr/bin/python3
"""Drives Debian's chromium (headless, through chromium-driver and
python3-selenium) through a scenario, for the web pages' functional tests.

    browse.py SCENARIO.json   ->  prints {"ok": bool, "values": {...}, "error": str}

A scenario is a list of steps, each a map with one action:
  {"get": URL}                        load a page
  {"wait_css": SEL, "timeout": S}     until an element matches
  {"wait_js": EXPR, "timeout": S}     until EXPR (JavaScript) is truthy
  {"text": SEL, "as": KEY}            innerText of the first match
  {"js": EXPR, "as": KEY}             the value of EXPR
  {"async_js": BODY, "as": KEY}       an async script: BODY calls done(value)
  {"fill": SEL, "value": V}           types V into an input (cleared first)
  {"click": SEL}                      clicks the first match
  {"screenshot": PATH}                saves a PNG of the whole page
  {"touch": PATH}                     creates an empty file (a test's gate:
                                      e.g. lets a build go on once the page
                                      is open)
Before any page script runs, window.alert/confirm/prompt and a global
window.__xss list are installed: a hostile string that manages to run
script shows up there (the tests assert it stays empty).
"""
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

GUARD = """
window.__xss = [];
window.alert = function (m) { window.__xss.push('alert:' + m); };
window.confirm = function (m) { window.__xss.push('confirm:' + m); return false; };
window.prompt = function (m) { window.__xss.push('prompt:' + m); return null; };
"""


def main():
    steps = json.load(open(sys.argv[1]))
    opts = webdriver.ChromeOptions()
    opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
              '--window-size=1400,1000', '--no-first-run', '--disable-extensions',
              '--disable-background-networking', '--disable-component-update'):
        opts.add_argument(a)
    values = {}
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=opts)
    try:
        driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': GUARD})
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        for i, step in enumerate(steps):
            try:
                run(driver, step, values)
            except Exception as e:  # the step that failed, and why
                values['page_text'] = safe(lambda: driver.find_element(By.TAG_NAME, 'body').text[:4000])
                values['url'] = safe(lambda: driver.current_url)
                print(json.dumps({'ok': False, 'values': values,
                                  'error': 'step %d %s: %s' % (i, json.dumps(step), e)}))
                return
        print(json.dumps({'ok': True, 'values': values, 'error': ''}))
    finally:
        driver.quit()


def safe(fn):
    try:
        return fn()
    except Exception as e:
        return 'unavailable: %s' % e


def until(timeout, fn, what):
    end = time.time() + timeout
    while True:
        if fn():
            return
        if time.time() > end:
            raise TimeoutError('waited %.0f s for %s' % (timeout, what))
        time.sleep(0.1)


def run(driver, step, values):
    timeout = step.get('timeout', 20)
    if 'get' in step:
        driver.get(step['get'])
    elif 'wait_css' in step:
        until(timeout, lambda: driver.find_elements(By.CSS_SELECTOR, step['wait_css']), step['wait_css'])
    elif 'wait_js' in step:
        until(timeout, lambda: driver.execute_script('return !!(' + step['wait_js'] + ')'), step['wait_js'])
    elif 'text' in step:
        values[step['as']] = driver.find_element(By.CSS_SELECTOR, step['text']).text
    elif 'js' in step:
        values[step['as']] = driver.execute_script('return (' + step['js'] + ')')
    elif 'async_js' in step:
        values[step['as']] = driver.execute_async_script(
            'var done = arguments[arguments.length - 1];\n' + step['async_js'])
    elif 'fill' in step:
        el = driver.find_element(By.CSS_SELECTOR, step['fill'])
        el.clear()
        el.send_keys(step['value'])
    elif 'click' in step:
        driver.find_element(By.CSS_SELECTOR, step['click']).click()
    elif 'screenshot' in step:
        driver.save_screenshot(step['screenshot'])
    elif 'touch' in step:
        open(step['touch'], 'a').close()
    else:
        raise ValueError('unknown step')


if __name__ == '__main__':
    main()
