% rebase('base.tpl')
% from urllib.parse import quote
<h1>{{_('Contacts')}}</h1>
<form method="get" action="/contacts" class="filters" role="search">
  <label for="q">{{_('Search names, companies and numbers')}}</label>
  <input id="q" name="q" type="search" value="{{q}}" maxlength="100">
  <button type="submit">{{_('Search')}}</button>
  % if can_edit:
  <a href="/contacts.csv">{{_('Export all as CSV')}}</a>
  % end
</form>
% if missing:
<p class="notice">{{missing}}</p>
% elif not rows:
<p>{{_('No contact matches.') if q else _('No contacts yet.')}}</p>
% else:
<div class="scroll">
<table class="records" id="contacts">
  <thead><tr><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Company')}}</th><th scope="col">{{_('Phone numbers')}}</th><th scope="col">{{_('Email')}}</th><th scope="col">{{_('Notes')}}</th>{{!'<th scope="col">' + _('Change') + '</th>' if can_edit else ''}}</tr></thead>
  <tbody>
  % for c in rows:
  <tr>
    <td data-label="{{_('Name')}}">{{c['name']}}</td>
    <td data-label="{{_('Company')}}">{{c['company']}}</td>
    <td data-label="{{_('Phone numbers')}}">
      % for number, shown in c['numbers']:
      % if can_dial:
      % include('dial_button.tpl', number=number, shown=shown)
      % else:
      <span class="number">{{shown}}</span>
      % end
      % end
    </td>
    <td data-label="{{_('Email')}}">{{c['email']}}</td>
    <td data-label="{{_('Notes')}}">{{c['notes']}}</td>
    % if can_edit:
    <td data-label="{{_('Change')}}"><a href="/contacts/{{c['id']}}/edit" aria-label="{{_('Edit contact {name}', name=c['name'])}}">{{_('Edit')}}</a></td>
    % end
  </tr>
  % end
  </tbody>
</table>
</div>
<p class="pager">
  % if offset:
  <a href="/contacts?q={{quote(q)}}&amp;offset={{max(0, offset - page_size)}}">{{_('Previous page')}}</a>
  % end
  % if has_next:
  <a href="/contacts?q={{quote(q)}}&amp;offset={{offset + page_size}}">{{_('Next page')}}</a>
  % end
</p>
% end
% if import_errors:
<section class="card" aria-labelledby="h-import-errors">
  <h2 id="h-import-errors">{{_('Rows that were not imported')}}</h2>
  <ul id="import-errors">
    % for e in import_errors:
    <li>{{_('Line {line}: {error}', line=e.get('line', '?'), error=e.get('error', ''))}}</li>
    % end
  </ul>
</section>
% end
% if can_edit:
<section class="card narrow" aria-labelledby="h-add-contact">
  <h2 id="h-add-contact">{{_('Add a contact')}}</h2>
  <form method="post" action="/contacts">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    % include('contact_fields.tpl', c=form, errors=errors)
    <button type="submit">{{_('Add contact')}}</button>
  </form>
</section>
<section class="card narrow" aria-labelledby="h-import">
  <h2 id="h-import">{{_('Import from CSV')}}</h2>
  <p class="help" id="import-help">{{_('Columns: name, company, numbers (separated by ;), email, notes, with a header row. Good rows are imported; the others are listed with their line.')}}</p>
  <form method="post" action="/contacts/import" enctype="multipart/form-data">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="import-file">{{_('CSV file')}}</label>
    <input id="import-file" name="file" type="file" accept=".csv,text/csv" required aria-describedby="import-help">
    <button type="submit">{{_('Import')}}</button>
  </form>
</section>
% end
