% rebase('base.tpl')
<script src="/static/wizard.js" defer></script>
% names = [s for s, x in steps]
<h1>{{_('Set-up wizard')}}</h1>
<nav aria-label="{{_('Wizard steps')}}"><ol class="steps">
  % for name, label in steps:
  % done = reached == 'done' or (reached in names and names.index(name) < names.index(reached))
  <li class="{{'current' if name == step else ''}} {{'done' if done else ''}}">
    % if done or name == reached:
    <a href="/wizard/{{name}}" {{!'aria-current="step"' if name == step else ''}}>{{_(label)}}</a>
    % else:
    {{_(label)}}
    % end
  </li>
  % end
</ol></nav>

% if step == 'done':
<p class="notice">{{_('Set-up is complete. You can run any step again from the list above.')}}</p>
<p><a href="/">{{_('Go to the dashboard')}}</a></p>

% elif step == 'business':
<form method="post" action="/wizard/business" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Your business')}}</h2>
  <div class="field{{' invalid' if 'name' in errors else ''}}">
    <label for="w-name">{{_('Business name')}}</label>
    <input id="w-name" name="name" value="{{form['name']}}" required aria-describedby="w-name-help">
    <p class="help" id="w-name-help">{{_('Shown on the wallboard and said in prompts.')}}</p>
    % if 'name' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['name'])}}</p>
    % end
  </div>
  <div class="field{{' invalid' if 'timezone' in errors else ''}}">
    <label for="w-tz">{{_('Time zone')}}</label>
    <select id="w-tz" name="timezone" aria-describedby="w-tz-help" data-from-browser="{{'1' if from_browser else '0'}}">
      % marked = False
      % for zone, label in timezones:
      <option value="{{zone}}" {{!'selected' if zone == form['timezone'] and not marked else ''}}>{{label}}</option>
      % marked = marked or zone == form['timezone']
      % end
      <option value="UTC" {{!'selected' if form['timezone'] == 'UTC' else ''}}>{{_('UTC')}}</option>
    </select>
    <input type="hidden" name="browser_timezone" id="w-browser-tz" value="">
    <p class="help" id="w-tz-help">{{_('Listed by country: type the first letters of your country. Opening hours and reports follow it.')}}</p>
    % if from_browser:
    <p class="help" id="w-tz-browser" hidden>{{_('Preselected from this computer\'s clock.')}}</p>
    % end
    % if 'timezone' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['timezone'])}}</p>
    % end
  </div>
  <button type="submit">{{_('Save and continue')}}</button> <a href="/">{{_('Finish later')}}</a>
</form>

% elif step == 'hours':
<form method="post" action="/wizard/hours" class="card">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Opening hours')}}</h2>
  <p class="help">{{_('Outside these hours callers hear the closed greeting and can leave a voicemail.')}}</p>
  <table class="hours">
    <thead><tr><th scope="col">{{_('Day')}}</th><th scope="col">{{_('Open')}}</th><th scope="col">{{_('From')}}</th><th scope="col">{{_('To')}}</th></tr></thead>
    <tbody>
    % for day in days:
    % span = (hours.get(day) or [['09:00', '17:00']])[0]
    <tr class="{{'invalid' if day in errors else ''}}">
      <th scope="row">{{_(day_names[day])}}</th>
      <td><input type="checkbox" id="{{day}}-open" name="{{day}}-open" aria-label="{{_('Open on {day}', day=_(day_names[day]))}}" {{!'checked' if day in hours else ''}}></td>
      <td><input type="time" name="{{day}}-start" value="{{span[0]}}" aria-label="{{_('{day} opens', day=_(day_names[day]))}}"></td>
      <td><input type="time" name="{{day}}-end" value="{{span[1]}}" aria-label="{{_('{day} closes', day=_(day_names[day]))}}">
        % if day in errors:
        <p class="field-error" role="alert">{{translate_message(errors[day])}}</p>
        % end
      </td>
    </tr>
    % end
    </tbody>
  </table>
  <button type="submit">{{_('Save and continue')}}</button> <a href="/wizard/business">{{_('Back')}}</a>
</form>

% elif step == 'staff':
% if created is not None:
<section class="card">
  <h2>{{_('Phones added')}}</h2>
  % if created:
  <p>{{_('Print a sheet for each phone: it holds the settings to type into the phone, its secret too. The secrets are shown on these sheets only.')}}</p>
  <ul class="staff-sheets">
    % for e in created:
    <li>{{e['number']}} {{e.get('name', '')}} — <a href="/extensions/{{e['number']}}/sheet" target="_blank" rel="noopener">{{_('printable sheet for {number}', number=e['number'])}}</a></li>
    % end
  </ul>
  % end
  % for k in kept:
  <p class="help">{{_('{number} (kept as it is)', number=k)}}</p>
  % end
  % if not error:
  <p><a class="button" href="/wizard/flows">{{_('Continue')}}</a></p>
  % end
</section>
% end
<form method="post" action="/wizard/staff" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Staff extensions')}}</h2>
  <label for="w-staff">{{_('One person per line: extension number and name')}}</label>
  <textarea id="w-staff" name="staff" rows="8" aria-describedby="w-staff-help" placeholder="{{!_('1001 Anna&#10;1002 Piotr')}}">{{text}}</textarea>
  <p class="help" id="w-staff-help">{{_('Numbers of 2-8 digits, not starting with 0. Each gets a phone secret made for it. Staff who take queue calls log in with their extension number as username (add them on the Users page with the role agent).')}}</p>
  <button type="submit">{{_('Add these phones')}}</button>
  % if extensions:
  <a href="/wizard/flows">{{_('Skip: the extensions are there')}}</a>
  % end
</form>
% if extensions:
<p class="help">{{_('Extensions now: {list}.', list=', '.join(e['number'] + ' ' + e.get('name', '') for e in extensions))}}</p>
% end

% elif step == 'flows':
<form method="post" action="/wizard/flows" class="card narrow" {{!('data-confirm="' + _('This replaces the call flows the box has now. Continue?').replace('"', '&quot;') + '"') if has_flows else ''}}>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Menu and queues')}}</h2>
  <p class="help">{{_('Callers hear a menu in opening hours: 1 for the first queue, 2 for the second, 0 for the operator. After hours: a closed greeting, then voicemail. You can change all of it later in the IVR editor.')}}</p>
  % for key, label, help in (('queue', _('Queue for option 1'), _('e.g. sales')), ('support', _('Queue for option 2 (optional)'), _('e.g. support; leave empty for none'))):
  <div class="field{{' invalid' if key in errors else ''}}">
    <label for="w-{{key}}">{{label}}</label>
    <input id="w-{{key}}" name="{{key}}" value="{{form[key]}}" aria-describedby="w-{{key}}-help">
    <p class="help" id="w-{{key}}-help">{{help}}</p>
    % if key in errors:
    <p class="field-error" role="alert">{{translate_message(errors[key])}}</p>
    % end
  </div>
  % end
  <div class="field{{' invalid' if 'service' in errors else ''}}">
    <label for="w-service">{{_('Service number')}}</label>
    <input id="w-service" name="service" value="{{form['service']}}" inputmode="tel" aria-describedby="w-service-help">
    <p class="help" id="w-service-help">{{_('What staff dial on a desk phone to reach the menu, as a customer would; not an extension number. Calls from outside lines reach the menu whatever number they called.')}}</p>
    % if 'service' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['service'])}}</p>
    % end
  </div>
  <label for="w-operator">{{_('Operator for option 0')}}</label>
  <select id="w-operator" name="operator">
    <option value="">{{_('(none)')}}</option>
    % for n in staff:
    <option {{!'selected' if n == form['operator'] else ''}}>{{n}}</option>
    % end
  </select>
  <div class="field{{' invalid' if 'box' in errors else ''}}">
    <label for="w-box">{{_('Voicemail box after hours')}}</label>
    <input id="w-box" name="box" value="{{form['box']}}">
    % if 'box' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['box'])}}</p>
    % end
  </div>
  <fieldset><legend>{{_('Agents of these queues')}}</legend>
    % for n in staff:
    <div class="check"><input type="checkbox" id="w-agent-{{n}}" name="agents" value="{{n}}" checked><label for="w-agent-{{n}}">{{n}}</label></div>
    % end
    % if not staff:
    <p class="help">{{_('No staff yet:')}} <a href="/wizard/staff">{{_('add them first')}}</a>.</p>
    % end
    % if 'agents' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['agents'])}}</p>
    % end
  </fieldset>
  <div class="check"><input type="checkbox" id="w-logins" name="logins" checked aria-describedby="w-logins-help"><label for="w-logins">{{_('Give each agent a login to the agent panel')}}</label></div>
  <p class="help" id="w-logins-help">{{_('The user name is the extension number; the first password is shown once, on the next page.')}}</p>
  <button type="submit">{{_('Set up menu and queues')}}</button>
</form>

% elif step == 'voicemail':
<form method="post" action="/wizard/voicemail" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Your voicemail')}}</h2>
  <p class="help">{{_('Callers leave you messages when you do not answer. Choose the PIN you type to listen from a phone, and where an e-mail tells you a message came.')}}</p>
  <div class="field{{' invalid' if 'box' in errors else ''}}">
    <label for="w-box">{{_('Your extension')}}</label>
    <select id="w-box" name="box">
      % for n in staff:
      <option {{!'selected' if n == form['box'] else ''}}>{{n}}</option>
      % end
    </select>
    % if 'box' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['box'])}}</p>
    % end
  </div>
  <div class="field{{' invalid' if 'pin' in errors else ''}}">
    <label for="w-pin">{{_('Voicemail PIN')}}</label>
    <input id="w-pin" name="pin" type="password" inputmode="numeric" autocomplete="new-password" aria-describedby="w-pin-help">
    <p class="help" id="w-pin-help">{{_('4 to 10 digits.')}}</p>
    % if 'pin' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['pin'])}}</p>
    % end
  </div>
  <div class="field{{' invalid' if 'email' in errors else ''}}">
    <label for="w-email">{{_('E-mail for new messages (optional)')}}</label>
    <input id="w-email" name="email" type="email" value="{{form['email']}}">
    % if 'email' in errors:
    <p class="field-error" role="alert">{{translate_message(errors['email'])}}</p>
    % end
  </div>
  <button type="submit">{{_('Save and continue')}}</button> <a href="/wizard/provider">{{_('Skip this step')}}</a>
</form>

% elif step == 'provider':
<form method="post" action="/wizard/provider" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('SIP provider')}}</h2>
  <p class="help">{{_('If you have a phone number from an internet telephony provider, type what they gave you: the box registers with them and takes calls to that number. No provider? Skip this step; a GSM or landline modem works without one.')}}</p>
  % if trunks:
  <p>{{_('Trunks now: {list}.', list=', '.join(tr['name'] + ' (' + tr.get('host', '') + ')' for tr in trunks))}}</p>
  % end
  % for key, label, kind, attrs in (('host', _('Server'), 'text', 'placeholder="sip.example.com" autocomplete="off"'), ('username', _('User name'), 'text', 'autocomplete="off"'), ('secret', _('Password'), 'password', 'autocomplete="new-password"'), ('number', _('Your number at the provider (optional)'), 'tel', '')):
  <div class="field{{' invalid' if key in errors else ''}}">
    <label for="w-{{key}}">{{label}}</label>
    <input id="w-{{key}}" name="{{key}}" type="{{kind}}" value="{{'' if kind == 'password' else form.get(key, '')}}" {{!attrs}}>
    % if key in errors:
    <p class="field-error" role="alert">{{translate_message(errors[key])}}</p>
    % end
  </div>
  % end
  <button type="submit">{{_('Add the provider')}}</button>
  <button type="submit" name="skip" value="1" formnovalidate class="secondary">{{_('Skip: no provider')}}</button>
</form>

% elif step == 'lines':
<form method="post" action="/wizard/lines" class="card">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <h2>{{_('Lines')}}</h2>
  % if lines:
  <p>{{_('Lines found:')}}</p>
  <ul class="lines">
    % for ln in lines:
    <li><strong>{{ln.get('name')}}</strong>: {{_(str(ln.get('kind')))}}{{(', ' + _('number {number}', number=ln['number'])) if ln.get('number') else ''}}{{(' (' + _('simulated') + ')') if ln.get('simulated') else ''}}</li>
    % end
  </ul>
  % else:
  <p>{{_('Lines and trunks found:')}} <strong>{{_('none yet')}}</strong>{{_('. Plug in a GSM or landline USB modem; SIP providers are added as trunks.')}}</p>
  % end
  <button type="submit">{{_('Continue')}}</button>
</form>

% elif step == 'test':
<section class="card">
  <h2>{{_('Test call')}}</h2>
  <ol>
    <li>{{ngettext('Take a phone that is registered ({n} registered now{list}).', 'Take a phone that is registered ({n} registered now{list}).', len(registered), list=(': ' + ', '.join(r['aor'] for r in registered)) if registered else '')}}</li>
    <li>{{_('Dial the service number')}} <strong id="service-number">{{service_number}}</strong>{{_(": the call goes through the menu like a customer's would (outside the opening hours you hear the closed greeting).")}}</li>
    <li>{{_("Press 1 to reach the first queue; a logged-in agent's phone rings.")}}</li>
  </ol>
  <h3>{{_('What the box sees')}}</h3>
  <p class="help" id="feed-status">{{_('Connecting…')}}</p>
  <ul id="wizard-feed" class="events" aria-live="polite" data-source="/events"></ul>
  % include('wizard_feed.tpl')
  <form method="post" action="/wizard/test">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button type="submit">{{_('Finish set-up')}}</button>
  </form>
</section>
% end
