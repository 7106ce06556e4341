"""Prompts (admin): the recorded or spoken messages callers hear.

A prompt is made from text (the core speaks it with espeak-ng) or from an
uploaded recording, whose bytes the web process sends on as the request
body; the core converts it or refuses it, and a refused upload changes
nothing. The core has no route to fetch a prompt's audio, so the page lists
prompts without a player.
"""

from __future__ import annotations

import re

import bottle
from bottle import request, response

from appliance.errors import ApiError
from web.kit import _, Role, WebState, ask_core, notice, render, require, see_other, upload_limit

PROMPT_LANGUAGES = ("en", "pl", "zh")
NAME_RE = re.compile(r"^[a-z0-9-]{1,64}$")
# The core takes up to 32 MiB; refusing more here saves sending it.
MAX_UPLOAD = 32 << 20


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the prompts page to the app."""

    def page(api, form=None, errors=None, error=None) -> str:
        prompts = sorted(ask_core(api.prompts), key=lambda p: (p.get("language", ""), p.get("name", "")))
        return render("prompts.tpl", title=_("Prompts"), prompts=prompts, form=form or {},
                      errors=errors or {}, error=error, languages_of_prompts=PROMPT_LANGUAGES)

    @app.get("/prompts")
    @require(Role.ADMIN)
    def prompts(api):
        return page(api)

    def _check(form: dict[str, str]) -> dict[str, str]:
        errors = {}
        if not NAME_RE.match(form["name"]):
            errors["name"] = _("Use 1 to 64 lowercase letters, digits and dashes.")
        if form["language"] not in PROMPT_LANGUAGES:
            errors["language"] = _("Choose a language.")
        return errors

    @app.post("/prompts/speak")
    @require(Role.ADMIN)
    def speak(api, user):
        form = {k: request.forms.getunicode(k, "").strip() for k in ("name", "language", "text")}
        errors = _check(form)
        if not form["text"]:
            errors["text"] = _("Write what the prompt says.")
        if not errors:
            try:
                ask_core(api.speak_prompt, form["language"], form["name"], form["text"])
            except ApiError as exc:
                errors[""] = exc.message
        if errors:
            response.status = 400
            return page(api, form=form | {"mode": "speak"}, errors=errors,
                        error=_("The prompt was not changed."))
        state.audit(user.username, "prompt_changed", f"{form['language']}/{form['name']} (text)")
        notice(_("Prompt {name} was made from the text.", name=form["name"]))
        raise see_other("/prompts")

    @app.post("/prompts/upload", max_body=upload_limit(MAX_UPLOAD))
    @require(Role.ADMIN)
    def upload(api, user):
        form = {k: request.forms.getunicode(k, "").strip() for k in ("name", "language")}
        errors = _check(form)
        upload = request.files.get("audio")
        data = b""
        if upload is None or not upload.raw_filename:
            errors["audio"] = _("Choose a sound file.")
        else:
            data = upload.file.read(MAX_UPLOAD + 1)
            if not data:
                errors["audio"] = _("The file is empty.")
            elif len(data) > MAX_UPLOAD:
                errors["audio"] = _("The file is larger than 32 MiB.")
        if not errors:
            try:
                ask_core(api.upload_prompt, form["language"], form["name"], data)
            except ApiError as exc:
                errors["audio"] = exc.message
        if errors:
            response.status = 400
            return page(api, form=form | {"mode": "upload"}, errors=errors,
                        error=_("The prompt was not changed."))
        state.audit(user.username, "prompt_changed",
                    f"{form['language']}/{form['name']} (upload, {len(data)} bytes)")
        notice(_("Prompt {name} was replaced by the recording.", name=form["name"]))
        raise see_other("/prompts")
