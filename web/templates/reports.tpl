% rebase('base.tpl')
<h1>{{_("Reports")}}</h1>
<form method="get" action="/reports" class="filters" role="search" aria-label="{{_("Reports")}}">
  <div><label for="r-from">{{_("From day")}}</label><input id="r-from" name="from" type="date" value="{{form.get('from', '')}}"></div>
  <div><label for="r-to">{{_("To day")}}</label><input id="r-to" name="to" type="date" value="{{form.get('to', '')}}"></div>
  <div><label for="r-interval">{{_("Interval")}}</label>
    <select id="r-interval" name="interval">
      % for value, text in (('15min', _('15 minutes')), ('hour', _('Hour')), ('day', _('Day')), ('month', _('Month'))):
      <option value="{{value}}" {{!'selected' if form.get('interval', 'day') == value else ''}}>{{text}}</option>
      % end
    </select></div>
  <div><label for="r-queue">{{_("Queue")}}</label><input id="r-queue" name="queue" value="{{form.get('queue', '')}}" aria-describedby="r-queue-help"><p class="help" id="r-queue-help">{{_("Empty: all queues.")}}</p></div>
  <div><label for="r-sl">{{_("Service level target (%)")}}</label><input id="r-sl" name="target_sl" type="number" min="1" max="100" value="{{form.get('target_sl', '80')}}"></div>
  <div><label for="r-s">{{_("Answered within (seconds)")}}</label><input id="r-s" name="target_s" type="number" min="1" max="3600" value="{{form.get('target_s', '20')}}"></div>
  <button type="submit">{{_("Show")}}</button>
</form>
% if wanted is not None:
% today = found['today']
<p class="help">{{_("From {start} to {end}, as of {now}.", start=t.date(found['queues'].get('from')), end=t.date(found['queues'].get('to')), now=t.datetime(found['queues'].get('as_of')))}}</p>
<section aria-labelledby="today-title">
<h2 id="today-title">{{_("Today")}}</h2>
<div class="tiles">
  % for q in today.get('queues', [])[:1]:
  <section class="tile"><h3>{{_("Calls offered")}}</h3><p class="big">{{t.number(q.get('offered', 0))}}</p></section>
  <section class="tile"><h3>{{_("Answered")}}</h3><p class="big">{{t.number(q.get('answered', 0))}}</p></section>
  <section class="tile"><h3>{{_("Abandoned")}}</h3><p class="big">{{t.number(q.get('abandoned', 0))}}</p></section>
  <section class="tile"><h3>{{_("Service level")}}</h3><p class="big">{{t.percent(q.get('service_level'))}}</p></section>
  % end
</div>
<p><a href="/reports/today.csv">{{_("Download today as CSV")}}</a></p>
</section>

<section aria-labelledby="trend-title">
<h2 id="trend-title">{{_("Service level trend")}}</h2>
% if trend:
{{!chart}}
% else:
<p>{{_("No queue calls in this span.")}}</p>
% end
</section>

<section aria-labelledby="queues-title">
<h2 id="queues-title">{{_("Queues")}}</h2>
<p><a href="/reports/queues.csv?{{csv_query}}">{{_("Download as CSV")}}</a></p>
<div class="scroll">
<table>
  <caption>{{_("Queue figures per interval")}}</caption>
  <thead><tr><th scope="col">{{_("Interval")}}</th><th scope="col">{{_("Queue")}}</th><th scope="col">{{_("Offered")}}</th><th scope="col">{{_("Answered")}}</th><th scope="col">{{_("Abandoned")}}</th><th scope="col">{{_("Service level")}}</th><th scope="col">{{_("Average wait")}}</th><th scope="col">{{_("Average handling")}}</th></tr></thead>
  <tbody>
  % for whole, r in queue_rows:
  <tr><td>{{_("Whole span") if whole else label(r['interval'], t)}}</td><td>{{_("all queues") if r['queue'] == '*' else r['queue']}}</td>
      <td>{{t.number(r.get('offered', 0))}}</td><td>{{t.number(r.get('answered', 0))}}</td><td>{{t.number(r.get('abandoned', 0))}}</td>
      <td>{{t.percent(r.get('service_level'))}}</td><td>{{t.duration(r.get('asa_s'))}}</td><td>{{t.duration(r.get('aht_s'))}}</td></tr>
  % end
  </tbody>
</table>
</div>
</section>

<section aria-labelledby="heat-title">
<h2 id="heat-title">{{_("Calls per hour")}}</h2>
<p><a href="/reports/heatmap.csv?{{csv_query}}">{{_("Download as CSV")}}</a></p>
<div class="heatmap" role="table" aria-label="{{_('Calls offered per hour of the week')}}">
  <div class="heat-row" role="row"><span class="heat-day" role="columnheader"></span>
  % for h in range(24):
  <span class="heat-hour" role="columnheader">{{'%02d' % h}}</span>
  % end
  </div>
  % for i, (day, cells) in enumerate(heat):
  <div class="heat-row" role="row"><span class="heat-day" role="rowheader">{{_(weekdays[i]) if i < 7 else day}}</span>
  % for h, (calls, level) in enumerate(cells):
  <span class="heat heat-{{level}}" role="cell" title="{{_(weekdays[i]) if i < 7 else day}} {{'%02d' % h}}:00 · {{ngettext('{n} call', '{n} calls', calls)}}">{{t.number(calls) if calls else ''}}</span>
  % end
  </div>
  % end
</div>
</section>

<section aria-labelledby="agents-title">
<h2 id="agents-title">{{_("Agents")}}</h2>
<p><a href="/reports/agents.csv?{{csv_query}}">{{_("Download as CSV")}}</a></p>
% if not found['agents'].get('rows'):
<p>{{_("No agent was logged in during this span.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Agent figures")}}</caption>
  <thead><tr><th scope="col">{{_("Agent")}}</th><th scope="col">{{_("Calls")}}</th><th scope="col">{{_("Talk time")}}</th><th scope="col">{{_("Logged in")}}</th><th scope="col">{{_("On break")}}</th><th scope="col">{{_("Occupancy")}}</th></tr></thead>
  <tbody>
  % for a in found['agents']['rows']:
  <tr><td>{{a['agent']}}</td><td>{{t.number(a.get('calls', 0))}}</td><td>{{t.duration(a.get('talk_s'))}}</td><td>{{t.duration(a.get('logged_in_s'))}}</td><td>{{t.duration(a.get('break_s'))}}</td>
      <td><meter min="0" max="1" value="{{a.get('occupancy') or 0}}" aria-label="{{_('Occupancy')}}">{{t.percent(a.get('occupancy'))}}</meter> {{t.percent(a.get('occupancy'))}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
</section>

<section aria-labelledby="staffing-title">
<h2 id="staffing-title">{{_("Staffing advice")}}</h2>
<p>{{_("Agents needed each hour to answer {sl} of calls within {s} seconds, from the calls of {days}.", sl=t.percent(wanted.target_sl, 0), s=t.number(wanted.target_s), days=ngettext('{n} day', '{n} days', found['staffing'].get('days', 0)))}}</p>
<p><a href="/reports/staffing.csv?{{csv_query}}">{{_("Download as CSV")}}</a></p>
<div class="scroll">
<table class="staffing">
  <caption>{{_("Agents needed per hour of the week")}}</caption>
  <thead><tr><th scope="col">{{_("Day")}}</th>
  % for h in range(24):
  <th scope="col">{{'%02d' % h}}</th>
  % end
  </tr></thead>
  <tbody>
  % for day, hours in staffing:
  <tr><th scope="row">{{_(weekdays[day])}}</th>
  % for n in hours:
  <td>{{'' if n is None else t.number(n)}}</td>
  % end
  </tr>
  % end
  </tbody>
</table>
</div>
</section>
% end
