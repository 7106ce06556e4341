% rebase('base.tpl')
<h1>{{_("Recordings")}}</h1>
<form method="get" action="/recordings" class="filters" role="search" aria-label="{{_('Filter recordings')}}">
  <div><label for="from">{{_('From day')}}</label>
  <input id="from" name="from" type="date" value="{{form.get('from', '')}}"></div>
  <div><label for="to">{{_('To day')}}</label>
  <input id="to" name="to" type="date" value="{{form.get('to', '')}}"></div>
  <div><label for="number">{{_('Number')}}</label>
  <input id="number" name="number" value="{{form.get('number', '')}}" inputmode="tel" autocomplete="off"></div>
  <div><label for="agent">{{_('Agent')}}</label>
  <input id="agent" name="agent" value="{{form.get('agent', '')}}" inputmode="numeric" autocomplete="off"></div>
  <div class="filter-actions"><button type="submit">{{_('Show recordings')}}</button>
  <a href="/recordings">{{_('Clear')}}</a></div>
</form>
<p class="help">{{_("Every listen and every download is written to the audit log with your name.")}}</p>
% if not error:
% if not rows:
<p id="recordings-summary">{{_("No recording matches.")}}</p>
% else:
<p id="recordings-summary">{{ngettext("{n} recording, newest first.", "{n} recordings, newest first.", len(rows))}}
% if get('more'):
{{ngettext("Only the newest {n} is shown; narrow the filter for more.", "Only the newest {n} are shown; narrow the filter for more.", limit)}}
% end
</p>
<div class="scroll">
<table class="records" aria-describedby="recordings-summary">
  <thead><tr><th scope="col">{{_('Started')}}</th><th scope="col">{{_('From')}}</th><th scope="col">{{_('To')}}</th><th scope="col">{{_('Queue')}}</th><th scope="col">{{_('Agent')}}</th><th scope="col">{{_('Length')}}</th><th scope="col">{{_('Listen')}}</th></tr></thead>
  <tbody>
  % for r in rows:
  % cid = str(r['call_id'])
  <tr><td data-label="{{_('Started')}}">{{t.datetime(r.get('start'))}}</td><td data-label="{{_('From')}}">{{r.get('caller') or '–'}}</td><td data-label="{{_('To')}}">{{r.get('callee') or '–'}}</td>
      <td data-label="{{_('Queue')}}">{{r.get('queue') or '–'}}</td><td data-label="{{_('Agent')}}">{{r.get('agent') or r.get('answered_by') or '–'}}</td>
      <td data-label="{{_('Length')}}">{{fmt_duration(r.get('duration_s'))}}</td>
      <td data-label="{{_('Listen')}}"><audio controls preload="none" src="/recordings/{{cid}}.wav" aria-label="{{_('Listen to the call from {caller} to {callee}', caller=r.get('caller') or _('unknown caller'), callee=r.get('callee') or '–')}}"></audio>
        <a href="/recordings/{{cid}}.wav?download=1">{{_("Download")}}</a></td></tr>
  % end
  </tbody>
</table>
</div>
% end
% end
