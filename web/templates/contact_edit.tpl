% rebase('base.tpl')
<h1>{{_('Edit contact {name}', name=contact['name'])}}</h1>
<form method="post" action="/contacts/{{contact['id']}}/edit" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % include('contact_fields.tpl', c=contact, errors=errors)
  <button type="submit">{{_('Save')}}</button>
  <a href="/contacts">{{_('Cancel')}}</a>
</form>
<form method="post" action="/contacts/{{contact['id']}}/delete" class="card narrow" data-confirm="{{_('Delete contact {name}?', name=contact['name'])}}">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <button type="submit" class="danger">{{_('Delete contact')}}</button>
</form>
