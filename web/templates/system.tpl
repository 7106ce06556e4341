% rebase('base.tpl')
<h1>System</h1>
<section aria-labelledby="h-core">
  <h2 id="h-core">Core</h2>
  <div class="tiles">
    <div class="tile"><h3 id="t-status">Status</h3><p class="big" aria-labelledby="t-status">{{health.get('status', 'unknown')}}</p></div>
    <div class="tile"><h3>Version</h3><p class="big">{{health.get('version', '?')}}</p></div>
    <div class="tile"><h3>Core up for</h3><p class="big">{{fmt_uptime(health.get('uptime_s'))}}</p></div>
    <div class="tile"><h3>Phones registered</h3><p class="big">{{health.get('registrations', '?')}}</p>
      <p>SIP port {{health.get('sip_port', '?')}}, {{health.get('bans', 0)}} banned address(es)</p></div>
  </div>
</section>
<section aria-labelledby="h-box">
  <h2 id="h-box">This box</h2>
  <div class="tiles">
    % m = machine
    <div class="tile"><h3>Memory</h3>
      % if m.memory:
      <p class="big">{{m.memory.percent_used}} %</p>
      <meter min="0" max="100" value="{{m.memory.percent_used}}" low="70" high="90" optimum="10" aria-label="Memory used">{{m.memory.percent_used}} %</meter>
      <p>{{fmt_bytes(m.memory.available)}} free of {{fmt_bytes(m.memory.total)}}</p>
      % else:
      <p>unknown</p>
      % end
    </div>
    <div class="tile"><h3>Disk (data)</h3>
      % if m.disk:
      <p class="big">{{m.disk.percent_used}} %</p>
      <meter min="0" max="100" value="{{m.disk.percent_used}}" low="80" high="95" optimum="10" aria-label="Disk used">{{m.disk.percent_used}} %</meter>
      <p>{{fmt_bytes(m.disk.available)}} free of {{fmt_bytes(m.disk.total)}} on <code>{{m.disk_path}}</code></p>
      % else:
      <p>unknown{{' (no data directory given)' if not m.disk_path else ''}}</p>
      % end
    </div>
    <div class="tile"><h3>Box up for</h3><p class="big">{{fmt_uptime(m.uptime_s)}}</p>
      % if m.load:
      <p>load {{'%.2f %.2f %.2f' % m.load}} on {{m.cpus}} core(s)</p>
      % end
    </div>
    % if m.temperature_c is not None:
    <div class="tile"><h3>Temperature</h3><p class="big">{{'%.0f' % m.temperature_c}} °C</p></div>
    % end
  </div>
</section>
<section aria-labelledby="h-workers">
  <h2 id="h-workers">Engine workers</h2>
  % if workers is None:
  <p class="notice">{{not_yet.format(what='engine status')}}</p>
  % elif not workers:
  <p>No engine worker is running.</p>
  % else:
  <div class="scroll">
  <table class="records">
    <thead><tr><th scope="col">Worker</th><th scope="col">Status</th><th scope="col">Calls</th><th scope="col">SIP port</th><th scope="col">Process</th><th scope="col">Restarts</th></tr></thead>
    <tbody>
    % for w in workers:
    <tr><td data-label="Worker">{{w['id']}}</td><td data-label="Status"><span class="badge {{'disp-answered' if w['status'] == 'running' else 'disp-failed'}}">{{w['status']}}</span></td><td data-label="Calls">{{w['busy']}}</td><td data-label="SIP port">{{w['sip_port']}}</td><td data-label="Process">{{w['pid']}}</td><td data-label="Restarts">{{w['restarts']}}</td></tr>
    % end
    </tbody>
  </table>
  </div>
  % end
</section>
<section id="panel" class="card" aria-labelledby="h-panel">
  <h2 id="h-panel">Front panel</h2>
  % if panel is None:
  <p class="notice">{{panel_unavailable(panel_missing)}}</p>
  % else:
  <p class="help">Backend: {{panel.backend or 'unknown'}}{{(' — ' + panel.reason) if panel.reason else ''}}.
  {{'A simulated panel: its buttons can be worked from here.' if panel.simulated else 'Real hardware: the buttons are on the box.'}}</p>
  <div class="front-panel" data-panel="/system/panel.json">
    <ul class="leds" aria-label="LEDs">
      % for led in panel.leds:
      <li><span class="led led-{{led.colour}} {{led.css}}" data-led="{{led.name}}" aria-hidden="true"></span>
        <div><span class="led-name">{{led.name}}</span> <span class="led-colour">({{led.colour}})</span>:
        <strong data-led-says="{{led.name}}">{{led.says}}</strong>
        <p class="help">{{led.meaning}}</p></div></li>
      % end
    </ul>
    <p>Night mode: <strong data-night>{{'on' if panel.night_mode else 'off'}}</strong></p>
    % if panel.faults:
    <p class="error" role="alert">Faults: {{', '.join(panel.faults)}}</p>
    % end
    <div class="panel-buttons">
      % for b in panel.buttons:
      <div class="panel-button">
        <h3>{{b.name}}{{' (held down)' if b.pressed and b.name != 'night' else ''}}</h3>
        % if panel.simulated:
        % for action, label in b.actions:
        <form method="post" action="/system/panel" {{!'data-confirm="Holding reset down for 10 seconds resets the box to factory settings. Hold it down?"' if (b.name, action) == ('reset', 'press') else ''}}>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input type="hidden" name="button" value="{{b.name}}">
          <input type="hidden" name="action" value="{{action}}">
          <button type="submit" class="{{'danger' if b.name == 'reset' else ''}}" aria-describedby="help-{{b.name}}">{{label}}</button>
        </form>
        % end
        % end
        <p class="help" id="help-{{b.name}}">{{b.help}}</p>
      </div>
      % end
    </div>
  </div>
  % end
</section>
