% rebase('base.tpl')
% from urllib.parse import quote
% row = campaign
<h1>{{title}}</h1>
<p>{{_(row['mode'])}} · <span class="badge campaign-{{row['state']}}">{{_(row['state'])}}</span> ·
  <progress max="100" value="{{row['done_pct']}}" aria-label="{{_('Done')}}">{{t.percent(row['done_pct'] / 100)}}</progress>
  {{_('{done} of {total} done', done=row['done'], total=row['total'])}}
  · <a href="/campaigns/{{row['id']}}/report">{{_('Report')}}</a>
  · <a href="/campaigns/{{row['id']}}/list.csv" id="export-list">{{_('Export as CSV')}}</a></p>
% if can_edit:
<div class="actions">
% include('campaign_buttons.tpl', row=row, next='/campaigns/%s/list' % row['id'])
</div>
% end
% if import_result:
<section class="card" aria-labelledby="h-import-result" id="import-result">
  <h2 id="h-import-result">{{_('Added to the list')}}</h2>
  <p>{{_('{added} added, {duplicates} already on the list.', added=import_result.get('added', 0), duplicates=import_result.get('duplicates', 0))}}</p>
  % if import_result.get('errors'):
  <h3>{{_('Rows that were not imported')}}</h3>
  <ul id="import-errors">
    % for e in import_result['errors']:
    <li>{{_('Line {line}: {error}', line=e.get('line', '?'), error=e.get('error', ''))}}</li>
    % end
  </ul>
  % end
</section>
% end
<nav class="filters" aria-label="{{_('Entries by state')}}">
  <a href="/campaigns/{{row['id']}}/list" {{!'aria-current="page"' if not shown_state else ''}}>{{_('All')}} ({{row['total']}})</a>
  % for s in states:
  <a href="/campaigns/{{row['id']}}/list?state={{s}}" {{!'aria-current="page"' if shown_state == s else ''}}>{{_(s.replace('_', ' '))}} ({{row['states'][s]}})</a>
  % end
</nav>
% if not entries:
<p>{{_('Nobody on the list here.')}}</p>
% else:
<div class="scroll">
<table class="records" id="entries">
  <thead><tr><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Number')}}</th><th scope="col">{{_('Details')}}</th><th scope="col">{{_('State')}}</th><th scope="col">{{_('Attempts')}}</th><th scope="col">{{_('Result')}}</th><th scope="col">{{_('Agent')}}</th><th scope="col">{{_('Notes')}}</th></tr></thead>
  <tbody>
  % for e in entries:
  <tr>
    <td data-label="{{_('Name')}}">{{e['name']}}</td>
    <td data-label="{{_('Number')}}">{{e['number']}}</td>
    <td data-label="{{_('Details')}}">{{e['fields']}}</td>
    <td data-label="{{_('State')}}">{{_(e['state'].replace('_', ' '))}}</td>
    <td data-label="{{_('Attempts')}}">{{e['attempts']}}</td>
    <td data-label="{{_('Result')}}">{{translate_word(t, e['result'])}}</td>
    <td data-label="{{_('Agent')}}">{{e['agent']}}</td>
    <td data-label="{{_('Notes')}}">{{e['notes']}}</td>
  </tr>
  % end
  </tbody>
</table>
</div>
<p class="pager">
  % if offset:
  <a href="/campaigns/{{row['id']}}/list?state={{shown_state}}&amp;offset={{max(0, offset - page_size)}}">{{_('Previous page')}}</a>
  % end
  % if has_next:
  <a href="/campaigns/{{row['id']}}/list?state={{shown_state}}&amp;offset={{offset + page_size}}">{{_('Next page')}}</a>
  % end
</p>
% end
% if can_edit:
<section class="card narrow" aria-labelledby="h-upload">
  <h2 id="h-upload">{{_('Add people from a CSV file')}}</h2>
  <p class="help" id="upload-help">{{_('A number column is required; a name column and a time zone column are optional; every other column is kept for the card and the script. UTF-8, Windows-1250 or GBK; separated by , ; or tab. A number already on the list is not added twice.')}}</p>
  <form method="post" action="/campaigns/{{row['id']}}/list/import" enctype="multipart/form-data">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="list-file">{{_('CSV file')}}</label>
    <input id="list-file" name="file" type="file" accept=".csv,text/csv,text/plain" required aria-describedby="upload-help">
    <button type="submit">{{_('Import')}}</button>
  </form>
</section>
<section class="card narrow" aria-labelledby="h-called">
  <h2 id="h-called">{{_('Add everyone who called')}}</h2>
  <form method="post" action="/campaigns/{{row['id']}}/list/people">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="source" value="called">
    <label for="called-queue">{{_('Queue')}}</label>
    <select id="called-queue" name="queue">
      <option value="">{{_('any queue')}}</option>
      % for q in queues:
      <option value="{{q}}">{{q}}</option>
      % end
    </select>
    <label for="called-days">{{_('In the last days')}}</label>
    <input id="called-days" name="days" type="number" min="1" max="366" value="7" required>
    <button type="submit">{{_('Add callers')}}</button>
  </form>
</section>
<section class="card" aria-labelledby="h-from-contacts">
  <h2 id="h-from-contacts">{{_('Add people from the contacts')}}</h2>
  <form method="get" action="/campaigns/{{row['id']}}/list" class="filters" role="search">
    <label for="contacts-q">{{_('Search names, companies and numbers')}}</label>
    <input id="contacts-q" name="q" type="search" value="{{q}}" maxlength="100">
    <button type="submit">{{_('Search')}}</button>
  </form>
  % if contacts:
  <form method="post" action="/campaigns/{{row['id']}}/list/people">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="source" value="contacts">
    <ul class="plain" id="contact-choices">
      % for c in contacts:
      <li><input type="checkbox" id="contact-{{c['id']}}" name="contact" value="{{c['id']}}">
        <label for="contact-{{c['id']}}" class="inline">{{c['name']}} {{c.get('company') or ''}} {{', '.join(c.get('numbers') or [])}}</label></li>
      % end
    </ul>
    <button type="submit">{{_('Add the ticked contacts')}}</button>
  </form>
  % else:
  <p>{{_('No contact matches.')}}</p>
  % end
</section>
% end
