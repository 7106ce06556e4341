% rebase('base.tpl')
<h1>{{_('Calls')}}</h1>
<form method="get" action="/calls" class="filters" role="search" aria-label="{{_('Filter calls')}}">
  <div><label for="from">{{_('From day')}}</label>
  <input id="from" name="from" type="date" value="{{form.get('from', '')}}"></div>
  <div><label for="to">{{_('To day')}}</label>
  <input id="to" name="to" type="date" value="{{form.get('to', '')}}" aria-describedby="to-help">
  <p class="help" id="to-help">{{_('Includes the whole day.')}}</p></div>
  <div><label for="number">{{_('Number')}}</label>
  <input id="number" name="number" value="{{form.get('number', '')}}" inputmode="tel" autocomplete="off" aria-describedby="number-help">
  <p class="help" id="number-help">{{_("Part of the caller's or the called number.")}}</p></div>
  <div class="filter-actions"><button type="submit">{{_('Show calls')}}</button>
  <a href="/calls">{{_('Clear')}}</a></div>
</form>
% if unavailable:
<p class="notice" role="status">{{unavailable}}</p>
% elif not error:
<p class="summary" id="calls-summary">
  % first = wanted.offset + 1
  % if rows:
  {{_('Calls {first}–{last}, newest first ({filter}).', first=t.number(first), last=t.number(first + len(rows) - 1), filter=wanted.describe(_))}}
  % else:
  {{_('No calls match ({filter}).', filter=wanted.describe(_))}}
  % end
  <a href="/calls.csv{{'?' + wanted.query() if wanted.query() else ''}}" download>{{_('Download as CSV')}}</a>
  <span class="help">{{ngettext('(at most {n} call per file)', '(at most {n} calls per file)', csv_limit)}}</span>
</p>
% end
% if rows:
<div class="scroll">
<table class="records" aria-describedby="calls-summary">
  <thead><tr><th scope="col">{{_('Started')}}</th><th scope="col">{{_('From')}}</th><th scope="col">{{_('To')}}</th><th scope="col">{{_('Answered by')}}</th><th scope="col">{{_('Result')}}</th><th scope="col">{{_('Talk')}}</th><th scope="col">{{_('Length')}}</th><th scope="col">{{_('Direction')}}</th><th scope="col">{{_('Line')}}</th></tr></thead>
  <tbody>
  % for r in rows:
  <tr><td data-label="{{_('Started')}}">{{r['start']}}</td><td data-label="{{_('From')}}">{{r['caller']}}</td><td data-label="{{_('To')}}">{{r['callee']}}</td><td data-label="{{_('Answered by')}}">{{r['answered_by']}}</td><td data-label="{{_('Result')}}"><span class="badge {{r['disposition_class']}}">{{r['disposition']}}</span></td><td data-label="{{_('Talk')}}">{{r['talk']}}</td><td data-label="{{_('Length')}}">{{r['duration']}}</td><td data-label="{{_('Direction')}}">{{r['direction']}}</td><td data-label="{{_('Line')}}">{{r['trunk']}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
% if wanted.page > 1 or has_next:
<nav class="pager" aria-label="{{_('Pages of calls')}}">
  % if wanted.page > 1:
  <a href="/calls?{{wanted.query(wanted.page - 1)}}" rel="prev">{{_('Newer calls')}}</a>
  % end
  <span>Page {{wanted.page}}</span>
  % if has_next:
  <a href="/calls?{{wanted.query(wanted.page + 1)}}" rel="next">{{_('Older calls')}}</a>
  % end
</nav>
% end
