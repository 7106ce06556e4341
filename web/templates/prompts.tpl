% rebase('base.tpl')
% def errors_of(key):
  % if key in errors:
  <p class="field-error" id="p-{{form.get('mode', '')}}-{{key}}-error" role="alert">{{errors[key]}}</p>
  % end
% end
% def choose_language(prefix):
  <label for="{{prefix}}-language">{{_("Language")}}</label>
  <select id="{{prefix}}-language" name="language">
    % for code in languages_of_prompts:
    <option value="{{code}}" {{!'selected' if form.get('language') == code else ''}}>{{languages[code]}}</option>
    % end
  </select>
% end
<h1>{{_("Prompts")}}</h1>
<p>{{_("What callers hear: greetings, menus and announcements. Type a text to have it spoken, or upload a recording (WAV, MP3, OGG or FLAC).")}}</p>
<div class="prompt-forms">
<form method="post" action="/prompts/speak" class="card">
  <h2>{{_("Make a prompt from text")}}</h2>
  % if errors.get(''):
  <p class="error" role="alert">{{errors['']}}</p>
  % end
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label for="ps-name">{{_("Name")}}</label>
  <input id="ps-name" name="name" required pattern="[a-z0-9\-]{1,64}" value="{{form.get('name', '') if form.get('mode') == 'speak' else ''}}">
  % if form.get('mode') == 'speak':
  % errors_of('name')
  % end
  % choose_language('ps')
  <label for="ps-text">{{_("Text")}}</label>
  <textarea id="ps-text" name="text" rows="3" required>{{form.get('text', '') if form.get('mode') == 'speak' else ''}}</textarea>
  % if form.get('mode') == 'speak':
  % errors_of('text')
  % end
  <button type="submit">{{_("Speak and save")}}</button>
</form>
<form method="post" action="/prompts/upload" class="card" enctype="multipart/form-data">
  <h2>{{_("Upload a recording")}}</h2>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label for="pu-name">{{_("Name")}}</label>
  <input id="pu-name" name="name" required pattern="[a-z0-9\-]{1,64}" value="{{form.get('name', '') if form.get('mode') == 'upload' else ''}}">
  % if form.get('mode') == 'upload':
  % errors_of('name')
  % end
  % choose_language('pu')
  <label for="pu-audio">{{_("Sound file")}}</label>
  <input id="pu-audio" name="audio" type="file" accept="audio/*" required {{!'aria-invalid="true"' if 'audio' in errors else ''}}>
  % if form.get('mode') == 'upload':
  % errors_of('audio')
  % end
  <button type="submit">{{_("Upload")}}</button>
</form>
</div>
% langs = [c for c in languages_of_prompts]
% names = {}
% for p in prompts:
%   names.setdefault(str(p.get('name')), {})[p.get('language')] = p
% end
% own = sorted(n for n, by in names.items() if any(str(x.get('source')) != 'builtin' for x in by.values()))
% builtin = sorted(n for n in names if n not in own)
% def prompt_rows(which):
  % for name in which:
  <tr><th scope="row">{{name}}</th>
    % for code in langs:
    % p = names[name].get(code)
    <td>{{(t.duration(p.get('seconds')) + ' · ' + {'builtin': _('built in'), 'tts': _('text'), 'upload': _('recording')}.get(str(p.get('source')), str(p.get('source') or '–'))) if p else '–'}}</td>
    % end
  </tr>
  % end
% end
<section aria-labelledby="h-prompt-list">
<h2 id="h-prompt-list">{{_("Prompts")}}</h2>
% if not prompts:
<p>{{_("No prompt yet.")}}</p>
% else:
<div class="scroll">
<table class="compact">
  <caption>{{_("Your prompts, one row per name, one column per language")}}</caption>
  <thead><tr><th scope="col">{{_("Name")}}</th>
    % for code in langs:
    <th scope="col">{{languages.get(code, code)}}</th>
    % end
  </tr></thead>
  <tbody>
  % prompt_rows(own)
  % if not own:
  <tr><td colspan="{{len(langs) + 1}}">{{_("None of your own yet: make one above.")}}</td></tr>
  % end
  </tbody>
</table>
</div>
% if builtin:
<details class="builtin-prompts">
  <summary>{{ngettext('{n} built-in prompt', '{n} built-in prompts', len(builtin))}}</summary>
  <div class="scroll">
  <table class="compact">
    <thead><tr><th scope="col">{{_("Name")}}</th>
      % for code in langs:
      <th scope="col">{{languages.get(code, code)}}</th>
      % end
    </tr></thead>
    <tbody>
    % prompt_rows(builtin)
    </tbody>
  </table>
  </div>
</details>
% end
% end
</section>

