% rebase('base.tpl')
<h1>{{_("Phones")}}</h1>
% if off:
<p>{{_("Phone provisioning is switched off. Turn on provisioning.enabled in the settings to let desk phones set themselves up.")}}</p>
% else:
<section class="card" aria-labelledby="how-title">
  <h2 id="how-title">{{_("How desk phones find the box")}}</h2>
  <p>{{_("Provisioning URL")}}: <code id="provisioning-url">{{url}}</code></p>
  <h3>{{_("Plug and play")}}</h3>
  <p>{{_("Most Yealink, Snom, Fanvil and Poly phones ask the local network for their settings when they start. Bind the phone's MAC address to an extension below (or approve it when it shows up as waiting) and enter the user and password then shown on the phone: it fetches its settings and registers with its extension. Nothing on the router needs to change.")}}</p>
  <h3>{{_("DHCP option 66")}}</h3>
  <p>{{_("For phones that do not do plug and play (Grandstream, or phones on another network): in the router's DHCP settings look for \"option 66\", \"TFTP server\", \"boot server\" or \"custom DHCP option\", and set it, as text, to the provisioning URL shown above. Give the box a fixed address or a DHCP reservation first.")}}</p>
  <p>{{_("Option 66 carries no password: such a phone appears below as waiting, or, once bound, needs its user and password entered once on its own web page.")}}</p>
</section>

<section aria-labelledby="pending-title">
<h2 id="pending-title">{{_("Phones waiting for an extension")}}</h2>
% if not pending:
<p>{{_("No phone is waiting.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Phones that asked for their settings but are bound to no extension")}}</caption>
  <thead><tr><th scope="col">{{_("MAC address")}}</th><th scope="col">{{_("Maker")}}</th><th scope="col">{{_("Address")}}</th><th scope="col">{{_("First seen")}}</th><th scope="col">{{_("Last seen")}}</th><th scope="col">{{_("Phone software")}}</th><th scope="col">{{_("Approve")}}</th></tr></thead>
  <tbody>
  % for p in pending:
  % mac = str(p.get('mac', ''))
  <tr><td><code>{{display_mac(mac)}}</code></td><td>{{vendor_names.get(p.get('vendor') or '', '') or _('unknown')}}</td><td>{{p.get('ip', '')}}</td>
      <td>{{t.datetime(p.get('first_seen'))}}</td><td>{{t.datetime(p.get('last_seen'))}}</td><td>{{p.get('user_agent') or '–'}}</td>
      <td><form method="post" action="/phones/{{mac}}/approve" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <label for="approve-{{mac}}">{{_("Extension for {mac}", mac=display_mac(mac))}}</label>
        <select id="approve-{{mac}}" name="extension" required>
          <option value="">{{_("choose…")}}</option>
          % for e in extensions:
          <option value="{{e['number']}}">{{e['number']}} {{e.get('name', '')}}</option>
          % end
        </select>
        <button type="submit">{{_("Approve")}}</button>
      </form></td></tr>
  % end
  </tbody>
</table>
</div>
% end
</section>

<section aria-labelledby="bound-title">
<h2 id="bound-title">{{_("Bound phones")}}</h2>
% if not phones:
<p>{{_("No phone is bound yet.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Bound phones")}}</caption>
  <thead><tr><th scope="col">{{_("MAC address")}}</th><th scope="col">{{_("Extension")}}</th><th scope="col">{{_("Maker")}}</th><th scope="col">{{_("Model")}}</th><th scope="col">{{_("Settings fetched")}}</th><th scope="col"><span class="sr-only">{{_("Actions")}}</span></th></tr></thead>
  <tbody>
  % for p in phones:
  % mac = str(p.get('mac', ''))
  <tr><td><code>{{display_mac(mac)}}</code></td><td>{{p.get('extension', '')}}</td><td>{{vendor_names.get(p.get('vendor') or '', p.get('vendor') or '')}}</td><td>{{p.get('model') or '–'}}</td>
      <td>{{t.datetime(p['fetched']) if p.get('fetched') else _('not yet')}}</td>
      <td><a href="/phones/{{mac}}/files">{{_("Preview files")}}</a>
        <form method="post" action="/phones/{{mac}}/delete" class="inline" data-confirm="{{_('Unbind phone {mac}?', mac=display_mac(mac))}}">
          <input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="danger">{{_("Unbind")}}</button></form></td></tr>
  % end
  </tbody>
</table>
</div>
% end
<form method="post" action="/phones" class="card">
  <h3>{{_("Bind a phone")}}</h3>
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label for="ph-mac">{{_("MAC address")}}</label>
  <input id="ph-mac" name="mac" value="{{form.get('mac', '')}}" required placeholder="00:15:65:AB:CD:EF" aria-describedby="ph-mac-help{{' ph-mac-error' if 'mac' in errors else ''}}" {{!'aria-invalid="true"' if 'mac' in errors else ''}}>
  <p class="help" id="ph-mac-help">{{_("Printed on a label under the phone.")}}</p>
  % if 'mac' in errors:
  <p class="field-error" id="ph-mac-error" role="alert">{{errors['mac']}}</p>
  % end
  <label for="ph-extension">{{_("Extension")}}</label>
  <select id="ph-extension" name="extension" required {{!'aria-invalid="true"' if 'extension' in errors else ''}}>
    <option value="">{{_("choose…")}}</option>
    % for e in extensions:
    <option value="{{e['number']}}" {{!'selected' if form.get('extension') == str(e['number']) else ''}}>{{e['number']}} {{e.get('name', '')}}</option>
    % end
  </select>
  % if 'extension' in errors:
  <p class="field-error" role="alert">{{errors['extension']}}</p>
  % end
  <label for="ph-vendor">{{_("Maker")}}</label>
  <select id="ph-vendor" name="vendor" required {{!'aria-invalid="true"' if 'vendor' in errors else ''}}>
    <option value="">{{_("choose…")}}</option>
    % for v in vendors:
    <option value="{{v}}" {{!'selected' if form.get('vendor') == v else ''}}>{{vendor_names[v]}}</option>
    % end
  </select>
  % if 'vendor' in errors:
  <p class="field-error" role="alert">{{errors['vendor']}}</p>
  % end
  <label for="ph-model">{{_("Model (optional)")}}</label>
  <input id="ph-model" name="model" value="{{form.get('model', '')}}">
  <button type="submit">{{_("Bind phone")}}</button>
</form>
</section>

<section aria-labelledby="log-title">
<h2 id="log-title">{{_("Fetch log")}}</h2>
% if not fetches:
<p>{{_("No phone has asked for its settings yet.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Requests to the provisioning server, newest first")}}</caption>
  <thead><tr><th scope="col">{{_("Time")}}</th><th scope="col">{{_("Address")}}</th><th scope="col">{{_("MAC address")}}</th><th scope="col">{{_("File")}}</th><th scope="col">{{_("Outcome")}}</th></tr></thead>
  <tbody>
  % for f in fetches:
  <tr><td>{{t.datetime(f.get('time'))}}</td><td>{{f.get('ip', '')}}</td><td>{{display_mac(f['mac']) if f.get('mac') else '–'}}</td><td><code>{{f.get('file', '')}}</code></td>
      <td>{{outcome_text(f.get('outcome', ''))}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
</section>
% end
