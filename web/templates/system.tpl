% rebase('base.tpl')
% from web.kit import panel_reason
<h1>{{_('System')}}</h1>
<section aria-labelledby="h-core">
  <h2 id="h-core">{{_('Core')}}</h2>
  <div class="tiles">
    <div class="tile"><h3 id="t-status">{{_('Status')}}</h3><p class="big" aria-labelledby="t-status">{{_(str(health.get('status', 'unknown')))}}</p></div>
    <div class="tile"><h3>{{_('Version')}}</h3><p class="big">{{health.get('version', '?')}}</p></div>
    <div class="tile"><h3>{{_('Core up for')}}</h3><p class="big">{{t.uptime(health.get('uptime_s'))}}</p></div>
    <div class="tile"><h3>{{_('Phones registered')}}</h3><p class="big">{{health.get('registrations', '?')}}</p>
      <p>{{_('SIP port {port}', port=health.get('sip_port', '?'))}}, {{ngettext('{n} banned address', '{n} banned addresses', int(health.get('bans', 0) or 0))}}</p></div>
    % net = health.get('network') or {}
    <div class="tile" id="network"><h3 id="t-address">{{_('Address for phones')}}</h3><p class="big" aria-labelledby="t-address">{{net.get('address', '?')}}</p>
      <p>{{net.get('interface', '')}}: {{net.get('reason', '')}}</p>
      % if net.get('loopback_only'):
      <p class="notice">{{_('Phones on the LAN cannot reach this address. Connect the box to the office network.')}}</p>
      % end
    </div>
  </div>
</section>
<section aria-labelledby="h-box">
  <h2 id="h-box">{{_('This box')}}</h2>
  <div class="tiles">
    % m = machine
    <div class="tile"><h3>{{_('Memory')}}</h3>
      % if m.memory:
      <p class="big">{{m.memory.percent_used}} %</p>
      <meter min="0" max="100" value="{{m.memory.percent_used}}" low="70" high="90" optimum="10" aria-label="{{_('Memory used')}}">{{m.memory.percent_used}} %</meter>
      <p>{{_('{free} free of {total}', free=fmt_bytes(m.memory.available), total=fmt_bytes(m.memory.total))}}</p>
      % else:
      <p>{{_('unknown')}}</p>
      % end
    </div>
    <div class="tile"><h3>{{_('Disk (data)')}}</h3>
      % if m.disk:
      <p class="big">{{m.disk.percent_used}} %</p>
      <meter min="0" max="100" value="{{m.disk.percent_used}}" low="80" high="95" optimum="10" aria-label="{{_('Disk used')}}">{{m.disk.percent_used}} %</meter>
      <p>{{_('{free} free of {total}', free=fmt_bytes(m.disk.available), total=fmt_bytes(m.disk.total))}} <code>{{m.disk_path}}</code></p>
      % else:
      <p>{{_('unknown (no data directory given)') if not m.disk_path else _('unknown')}}</p>
      % end
    </div>
    <div class="tile"><h3>{{_('Box up for')}}</h3><p class="big">{{t.uptime(m.uptime_s)}}</p>
      % if m.load:
      <p>{{ngettext('load {load} on {n} core', 'load {load} on {n} cores', m.cpus or 0, load=' '.join(t.number(x, 2) for x in m.load))}}</p>
      % end
    </div>
    % if m.temperature_c is not None:
    <div class="tile"><h3>{{_('Temperature')}}</h3><p class="big">{{'%.0f' % m.temperature_c}} °C</p></div>
    % end
  </div>
</section>
<section aria-labelledby="h-workers">
  <h2 id="h-workers">{{_('Engine workers')}}</h2>
  % if workers is None:
  <p class="notice">{{not_yet.format(what='engine status')}}</p>
  % elif not workers:
  <p>{{_('No engine worker is running.')}}</p>
  % else:
  <div class="scroll">
  <table class="records">
    <thead><tr><th scope="col">{{_('Worker')}}</th><th scope="col">{{_('Status')}}</th><th scope="col">{{_('Calls')}}</th><th scope="col">{{_('SIP port')}}</th><th scope="col">{{_('Process')}}</th><th scope="col">{{_('Restarts')}}</th></tr></thead>
    <tbody>
    % for w in workers:
    <tr><td data-label="{{_('Worker')}}">{{w['id']}}</td><td data-label="{{_('Status')}}"><span class="badge {{'disp-answered' if w['status'] == 'running' else 'disp-failed'}}">{{_(w['status'])}}</span></td><td data-label="{{_('Calls')}}">{{translate_word(t, w['busy'])}}</td><td data-label="{{_('SIP port')}}">{{w['sip_port']}}</td><td data-label="{{_('Process')}}">{{w['pid']}}</td><td data-label="{{_('Restarts')}}">{{w['restarts']}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
<section id="panel" class="card" aria-labelledby="h-panel">
  <h2 id="h-panel">{{_('Front panel')}}</h2>
  % if panel is None:
  <p class="notice">{{panel_unavailable(panel_missing)}}</p>
  % else:
  <p class="help">{{_('Backend: {backend}', backend=_(panel.backend or 'unknown'))}}{{(' — ' + panel_reason(t, panel.reason)) if panel.reason else ''}}.
  {{_('A simulated panel: its buttons can be worked from here.') if panel.simulated else _('Real hardware: the buttons are on the box.')}}</p>
  <div class="front-panel" data-panel="/system/panel.json">
    <ul class="leds" aria-label="{{_('LEDs')}}">
      % for led in panel.leds:
      <li><span class="led led-{{led.colour}} {{led.css}}" data-led="{{led.name}}" aria-hidden="true"></span>
        <div><span class="led-name">{{_(led.name)}}</span> <span class="led-colour">({{_(led.colour)}})</span>:
        <strong data-led-says="{{led.name}}">{{translate_word(t, led.says)}}</strong>
        <p class="help">{{_(led.meaning)}}</p></div></li>
      % end
    </ul>
    <p>{{_('Night mode:')}} <strong data-night>{{_('on') if panel.night_mode else _('off')}}</strong></p>
    % if panel.faults:
    <p class="error" role="alert">{{_('Faults: {faults}', faults=', '.join(panel.faults))}}</p>
    % end
    <div class="panel-buttons">
      % for b in panel.buttons:
      <div class="panel-button">
        <h3>{{_(b.name)}}{{(' ' + _('(held down)')) if b.pressed and b.name != 'night' else ''}}</h3>
        % if panel.simulated:
        % for action, label in b.actions:
        <form method="post" action="/system/panel" {{!('data-confirm="' + _('Holding reset down for 10 seconds resets the box to factory settings. Hold it down?').replace('"', '&quot;') + '"') if (b.name, action) == ('reset', 'press') else ''}}>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input type="hidden" name="button" value="{{b.name}}">
          <input type="hidden" name="action" value="{{action}}">
          <button type="submit" class="{{'danger' if b.name == 'reset' else ''}}" aria-describedby="help-{{b.name}}">{{_(label)}}</button>
        </form>
        % end
        % end
        <p class="help" id="help-{{b.name}}">{{_(b.help)}}</p>
      </div>
      % end
    </div>
  </div>
  % end
</section>
<section id="backup" class="card" aria-labelledby="h-backup">
  <h2 id="h-backup">{{_('Backup and restore')}}</h2>
  <p>{{_("A backup holds the settings, extensions, users, call flows, contacts and call records, with voicemail and recordings. Keep it somewhere safe: it contains the phones' secrets.")}}</p>
  <p><a class="button" href="/system/backup" download>{{_('Download backup')}}</a></p>
  <form method="post" action="/system/restore" enctype="multipart/form-data" data-confirm="{{_('Restoring replaces everything on this box with the backup and restarts the core. Go on?')}}">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="restore-file">{{_('Restore from file')}}</label>
    <input id="restore-file" name="backup" type="file" accept=".gz,.tgz,application/gzip" required aria-describedby="restore-help">
    <p class="help" id="restore-help">{{_('The core checks the file first; a damaged file or one from another product changes nothing. Then it restarts with the backup: calls in progress drop. At most {size} MB.', size=max_backup_mb)}}</p>
    <div class="check"><input id="restore-confirm" name="confirm" type="checkbox" required><label for="restore-confirm">{{_("Replace this box's settings and data with the backup")}}</label></div>
    <button type="submit" class="danger">{{_('Restore')}}</button>
  </form>
</section>
<section id="logs" aria-labelledby="h-logs">
  <h2 id="h-logs">{{_('Recent log')}}</h2>
  % if logs is None:
  <p class="notice">{{not_yet.format(what='logs')}}</p>
  % elif not logs:
  <p>{{_('The log is empty.')}}</p>
  % else:
  <p class="help">{{ngettext('The last {n} line the core wrote, newest at the bottom.', 'The last {n} lines the core wrote, newest at the bottom.', len(logs))}} <a href="/system#logs">{{_('Reload')}}</a></p>
  <pre class="logs" tabindex="0" aria-label="{{_('Recent log')}}">{{'\n'.join(logs)}}</pre>
  % end
</section>
