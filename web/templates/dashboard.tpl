% rebase('base.tpl')
<h1>{{_('Dashboard')}}</h1>
% if get('wizard_open'):
<p class="notice">{{_('Set-up is not finished:')}} <a href="/wizard">{{_('continue the set-up wizard')}}</a>.</p>
% end
% if get('alarms'):
<section class="alarms-box" aria-labelledby="h-alarms" role="alert">
  <h2 id="h-alarms">{{_('Alarms')}}</h2>
  <ul class="alarms" id="alarms">
    % for a in alarms:
    <li><strong>{{a['text']}}</strong> {{a['action']}}
      % if a.get('count', 1) > 1:
      <span class="help">({{ngettext('{n} time', '{n} times', int(a['count']))}})</span>
      % end
      % if a.get('incident') and user.role == 'admin':
      <form method="post" action="/alarms/{{a['id']}}/ack" class="inline"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit">{{_('Done')}}</button></form>
      % end
    </li>
    % end
  </ul>
</section>
% end
<div class="tiles">
  <section class="tile" aria-labelledby="t-calls"><h2 id="t-calls">{{_('Calls today')}}</h2>
    <p class="big" id="calls-answered">{{ngettext('{n} answered', '{n} answered', day.answered)}}</p>
    <p id="calls-missed" class="{{'warn' if day.missed else ''}}">{{ngettext('{n} missed', '{n} missed', day.missed)}}{{(' · ' + _('at least, the day has more calls than shown')) if day.more else ''}}</p>
    <p><a href="/calls">{{_('See the calls')}}</a></p></section>
  <section class="tile" aria-labelledby="t-back"><h2 id="t-back">{{_('To call back')}}</h2>
    <p class="big" id="call-back-count">{{t.number(len(day.call_back))}}</p>
    <p>{{_('callers who got nobody and were not called back') if day.call_back else _('nobody is waiting for a call back')}}</p></section>
  <section class="tile" aria-labelledby="t-vm"><h2 id="t-vm">{{_('Voicemail waiting')}}</h2>
    <p class="big" id="voicemail-new">{{t.number(sum(b['new'] for b in voicemail))}}</p>
    <p>{{', '.join(_('box {number}: {new}', number=b['number'], new=t.number(b['new'])) for b in voicemail) or _('no new messages')}}</p>
    % if user.role == 'admin':
    <p><a href="/voicemail">{{_('Listen')}}</a></p>
    % end
  </section>
  <section class="tile" aria-labelledby="t-who"><h2 id="t-who">{{_('Who is on')}}</h2>
    <ul class="who-is-on" id="who-is-on">
      % for key in ('available', 'talking', 'on break', 'no phone'):
      <li class="agent-{{key.split(' ')[0]}}"><strong>{{t.number(len(who[key]))}}</strong> {{_(key)}}{{(': ' + ', '.join(who[key])) if who[key] else ''}}</li>
      % end
    </ul>
    <p><a href="/queues">{{_('Queues and agents')}}</a> · {{ngettext('{n} phone registered', '{n} phones registered', len(registrations))}}<span hidden id="registration-count">{{len(registrations)}}</span></p>
  </section>
</div>
<section aria-labelledby="h-call-back">
  <h2 id="h-call-back">{{_('Missed calls to call back')}}</h2>
  % if not day.call_back:
  <p class="help">{{_('No missed call today is waiting for a call back.')}}</p>
  % else:
  <table class="records" aria-labelledby="h-call-back" id="call-back">
    <thead><tr><th scope="col">{{_('Number')}}</th><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Last try')}}</th><th scope="col">{{_('Tries')}}</th></tr></thead>
    <tbody>
    % for m in day.call_back:
    <tr><td>
      % if can_dial:
      % include('dial_button.tpl', number=m.number, shown=m.number)
      % else:
      <a href="tel:{{m.number}}">{{m.number}}</a>
      % end
      </td><td>{{m.name or '–'}}</td><td>{{t.time(m.last, seconds=False) if m.last else '–'}}</td><td>{{t.number(m.tries)}}</td></tr>
    % end
    </tbody>
  </table>
  % if not can_dial:
  <p class="help">{{_('The call button dials from your own desk phone when your username is your extension number; otherwise the number opens your phone app.')}}</p>
  % end
  % end
</section>
<section aria-labelledby="live-title">
  <h2 id="live-title">{{_('Live events')}}</h2>
  <p class="help" id="live-status">{{_('Connecting…')}}</p>
  <ul id="live-events" class="events" aria-live="polite" data-source="/events"></ul>
  % include('event_words.tpl', element_id='event-words', connected=_('Connected: new events appear below.'))
</section>
