% rebase('base.tpl')
<h1>Calls</h1>
<form method="get" action="/calls" class="filters" role="search" aria-label="Filter calls">
  <div><label for="from">From day</label>
  <input id="from" name="from" type="date" value="{{form.get('from', '')}}"></div>
  <div><label for="to">To day</label>
  <input id="to" name="to" type="date" value="{{form.get('to', '')}}" aria-describedby="to-help">
  <p class="help" id="to-help">Includes the whole day.</p></div>
  <div><label for="number">Number</label>
  <input id="number" name="number" value="{{form.get('number', '')}}" inputmode="tel" autocomplete="off" aria-describedby="number-help">
  <p class="help" id="number-help">Part of the caller's or the called number.</p></div>
  <div class="filter-actions"><button type="submit">Show calls</button>
  <a href="/calls">Clear</a></div>
</form>
% if unavailable:
<p class="notice" role="status">{{unavailable}}</p>
% elif not error:
<p class="summary" id="calls-summary">
  % first = wanted.offset + 1
  % if rows:
  Calls {{first}}–{{first + len(rows) - 1}}, newest first ({{wanted.describe()}}).
  % else:
  No calls match ({{wanted.describe()}}).
  % end
  <a href="/calls.csv{{'?' + wanted.query() if wanted.query() else ''}}" download>Download as CSV</a>
  <span class="help">(at most {{csv_limit}} calls per file)</span>
</p>
% end
% if rows:
<div class="scroll">
<table class="records" aria-describedby="calls-summary">
  <thead><tr><th scope="col">Started</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Answered by</th><th scope="col">Result</th><th scope="col">Talk</th><th scope="col">Length</th><th scope="col">Direction</th><th scope="col">Line</th></tr></thead>
  <tbody>
  % for r in rows:
  <tr><td data-label="Started">{{r['start']}}</td><td data-label="From">{{r['caller']}}</td><td data-label="To">{{r['callee']}}</td><td data-label="Answered by">{{r['answered_by']}}</td><td data-label="Result"><span class="badge {{r['disposition_class']}}">{{r['disposition']}}</span></td><td data-label="Talk">{{r['talk']}}</td><td data-label="Length">{{r['duration']}}</td><td data-label="Direction">{{r['direction']}}</td><td data-label="Line">{{r['trunk']}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
% if wanted.page > 1 or has_next:
<nav class="pager" aria-label="Pages of calls">
  % if wanted.page > 1:
  <a href="/calls?{{wanted.query(wanted.page - 1)}}" rel="prev">Newer calls</a>
  % end
  <span>Page {{wanted.page}}</span>
  % if has_next:
  <a href="/calls?{{wanted.query(wanted.page + 1)}}" rel="next">Older calls</a>
  % end
</nav>
% end
