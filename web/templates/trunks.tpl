% rebase('base.tpl')
% def field(form, errors, prefix, key, label, kind='text', help=None, attrs=''):
  <label for="{{prefix}}-{{key}}">{{label}}</label>
  % described = ' '.join(x for x in ((prefix + '-' + key + '-help') if help else '', (prefix + '-' + key + '-error') if key in errors else '') if x)
  <input id="{{prefix}}-{{key}}" name="{{key}}" type="{{kind}}" value="{{'' if kind == 'password' else form.get(key, '')}}" {{!attrs}} {{!('aria-describedby="' + described + '"') if described else ''}} {{!'aria-invalid="true"' if key in errors else ''}}>
  % if help:
  <p class="help" id="{{prefix}}-{{key}}-help">{{help}}</p>
  % end
  % if key in errors:
  <p class="field-error" id="{{prefix}}-{{key}}-error" role="alert">{{errors[key]}}</p>
  % end
% end
<h1>{{_("Trunks and lines")}}</h1>

<section aria-labelledby="trunks-title">
<h2 id="trunks-title">{{_("SIP trunks")}}</h2>
% if not trunks:
<p>{{_("No trunk yet.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("SIP trunks")}}</caption>
  <thead><tr><th scope="col">{{_("Name")}}</th><th scope="col">{{_("Kind")}}</th><th scope="col">{{_("Host")}}</th><th scope="col">{{_("Status")}}</th><th scope="col">{{_("Numbers")}}</th><th scope="col"><span class="sr-only">{{_("Actions")}}</span></th></tr></thead>
  <tbody>
  % for tr in trunks:
  <tr><td>{{tr['name']}}</td><td>{{_(tr.get('kind', ''))}}</td><td>{{tr.get('host', '')}}:{{tr.get('port', '')}}</td>
      <td>{{_((tr.get('status') or {}).get('state', '')) if (tr.get('status') or {}).get('state') else '–'}}</td>
      <td>{{' '.join(tr.get('dids') or []) or '–'}}</td>
      <td><form method="post" action="/trunks/{{tr['name']}}/delete" data-confirm="{{_('Delete trunk {name}?', name=tr['name'])}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger">{{_("Delete")}}</button></form></td></tr>
  % end
  </tbody>
</table>
</div>
% end
<form method="post" action="/trunks" class="card">
  <h3>{{_("Add a trunk")}}</h3>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if trunk_errors.get(''):
  <p class="error" role="alert">{{trunk_errors['']}}</p>
  % end
  % field(trunk_form, trunk_errors, 'tr', 'name', _('Name'), attrs='required')
  <label for="tr-kind">{{_("Kind")}}</label>
  <select id="tr-kind" name="kind">
    <option value="register" {{!'selected' if trunk_form.get('kind', 'register') == 'register' else ''}}>{{_("SIP provider (registers with a user and secret)")}}</option>
    <option value="peer" {{!'selected' if trunk_form.get('kind') == 'peer' else ''}}>{{_("Peer trusted by its address (a gateway on the LAN)")}}</option>
  </select>
  % field(trunk_form, trunk_errors, 'tr', 'host', _('Host'), attrs='required')
  % field(trunk_form, trunk_errors, 'tr', 'port', _('Port'), kind='number', attrs='min="1" max="65535" placeholder="5060"')
  <label for="tr-transport">{{_("Transport")}}</label>
  <select id="tr-transport" name="transport">
    % for tp in ('udp', 'tcp', 'tls'):
    <option value="{{tp}}" {{!'selected' if trunk_form.get('transport', 'udp') == tp else ''}}>{{tp.upper()}}</option>
    % end
  </select>
  % field(trunk_form, trunk_errors, 'tr', 'username', _('User name at the provider'), attrs='autocomplete="off"')
  % field(trunk_form, trunk_errors, 'tr', 'secret', _('Secret'), kind='password', attrs='autocomplete="new-password"')
  % field(trunk_form, trunk_errors, 'tr', 'dids', _('Numbers of this trunk'), help=_('Separate numbers with spaces.'))
  % field(trunk_form, trunk_errors, 'tr', 'caller_id_number', _('Caller ID to send'))
  <button type="submit">{{_("Add trunk")}}</button>
</form>
</section>

<section aria-labelledby="lines-title">
<h2 id="lines-title">{{_("Phone lines")}}</h2>
% if not lines:
<p>{{_("No modem line yet.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Phone lines")}}</caption>
  <thead><tr><th scope="col">{{_("Name")}}</th><th scope="col">{{_("Kind")}}</th><th scope="col">{{_("Number")}}</th><th scope="col">{{_("State")}}</th><th scope="col">{{_("Signal")}}</th><th scope="col">{{_("Operator")}}</th><th scope="col">{{_("SIM card")}}</th><th scope="col">{{_("Last error")}}</th></tr></thead>
  <tbody>
  % for ln in lines:
  <tr><td>{{ln['name']}}{{(' (' + _('simulated') + ')') if ln.get('simulated') else ''}}</td><td>{{_('GSM') if ln.get('kind') == 'gsm' else _('analog')}}</td><td>{{ln.get('number') or '–'}}</td>
      <td>{{_(str(ln['state'])) if ln.get('state') else '–'}}</td>
      <td>{{'–' if ln.get('signal') is None else t.number(ln['signal'])}}</td>
      <td>{{ln.get('operator') or '–'}}</td><td>{{_(str(ln['sim'])) if ln.get('sim') else '–'}}</td><td>{{ln.get('last_error') or '–'}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
<form method="post" action="/lines" class="card">
  <h3>{{_("Add a line")}}</h3>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % if line_errors.get(''):
  <p class="error" role="alert">{{line_errors['']}}</p>
  % end
  % field(line_form, line_errors, 'ln', 'name', _('Name'), attrs='required')
  <label for="ln-kind">{{_("Kind")}}</label>
  <select id="ln-kind" name="kind">
    <option value="gsm" {{!'selected' if line_form.get('kind', 'gsm') == 'gsm' else ''}}>{{_("GSM modem (SIM card)")}}</option>
    <option value="analog" {{!'selected' if line_form.get('kind') == 'analog' else ''}}>{{_("Voice modem on a landline")}}</option>
  </select>
  % if 'kind' in line_errors:
  <p class="field-error" role="alert">{{line_errors['kind']}}</p>
  % end
  % field(line_form, line_errors, 'ln', 'device', _('Device'), help=_('The modem\'s serial port, e.g. /dev/ttyUSB2.'), attrs='required')
  % field(line_form, line_errors, 'ln', 'audio_device', _('Audio device'), help=_('Only for modems with a separate audio port.'))
  % field(line_form, line_errors, 'ln', 'profile', _('Modem profile'))
  % field(line_form, line_errors, 'ln', 'pin', _('SIM PIN'), kind='password', attrs='inputmode="numeric" autocomplete="off"')
  % field(line_form, line_errors, 'ln', 'number', _('Number of the line'))
  <button type="submit">{{_("Add line")}}</button>
</form>
</section>

<section aria-labelledby="routes-title">
<h2 id="routes-title">{{_("Outbound routes")}}</h2>
<p class="help" id="inbound-elsewhere">{{_("Calls from outside (inbound routes: a number of the box to an extension, a ring group or the call flows) are set on one page with the call flows:")}} <a href="/ivr#inbound-routes">{{_("Inbound routes")}}</a>.</p>
% if routes_error:
<p class="error" role="alert" id="routes-error">{{routes_error}}</p>
% end
<form method="post" action="/routes" class="card routes">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % outbound = list(routes.get('outbound') or []) + [{}]
  <input type="hidden" name="out-count" value="{{len(outbound)}}">
  <input type="hidden" name="in-count" value="0">
  <div class="scroll">
  <table>
    <caption>{{_("Outbound routes: the first route whose pattern matches the dialled number is used.")}}</caption>
    <thead><tr><th scope="col">{{_("Name")}}</th><th scope="col">{{_("Patterns")}}</th><th scope="col">{{_("Trunks, in failover order")}}</th><th scope="col">{{_("Strip digits")}}</th><th scope="col">{{_("Prefix")}}</th><th scope="col">{{_("Remove")}}</th></tr></thead>
    <tbody>
    % for i, r in enumerate(outbound):
    <tr><td><input name="out-name-{{i}}" value="{{r.get('name', '')}}" aria-label="{{_('Name')}}"></td>
        <td><input name="out-patterns-{{i}}" value="{{' '.join(r.get('patterns') or [])}}" aria-label="{{_('Patterns')}}"></td>
        <td><input name="out-trunks-{{i}}" value="{{' '.join(r.get('trunks') or [])}}" aria-label="{{_('Trunks, in failover order')}}"></td>
        <td><input name="out-strip-{{i}}" type="number" min="0" max="20" value="{{r.get('strip', '')}}" aria-label="{{_('Strip digits')}}"></td>
        <td><input name="out-prefix-{{i}}" value="{{r.get('prefix', '')}}" aria-label="{{_('Prefix')}}"></td>
        <td>{{!'' if not r else ''}}<input type="checkbox" name="out-remove-{{i}}" aria-label="{{_('Remove')}}"></td></tr>
    % end
    </tbody>
  </table>
  </div>
  <p class="help">{{_("Patterns use X for any digit, N for 2–9, Z for 1–9 and a dot for the rest, e.g. 0XXXXXXXXX. Separate several with spaces.")}}</p>
  <button type="submit">{{_("Save outbound routes")}}</button>
</form>
</section>
