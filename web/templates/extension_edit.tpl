% rebase('base.tpl')
<h1>{{_('Edit extension {number}', number=extension['number'])}}</h1>
<form method="post" action="/extensions/{{extension['number']}}/edit" class="card narrow">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label for="name">{{_('Name')}}</label>
  <input id="name" name="name" value="{{extension.get('name', '')}}" required>
  <label for="class_of_service">{{_('Class of service')}}</label>
  <select id="class_of_service" name="class_of_service">
    % for c in classes:
    <option value="{{c}}" {{!'selected' if extension.get('class_of_service') == c else ''}}>{{_(c)}}</option>
    % end
  </select>
  <div class="check"><input id="voicemail" name="voicemail" type="checkbox" {{!'checked' if extension.get('voicemail') else ''}}><label for="voicemail">{{_('Voicemail')}}</label></div>
  <div class="check"><input id="new_secret" name="new_secret" type="checkbox"><label for="new_secret">{{_('Generate a new secret (the phone must be set up again)')}}</label></div>
  <button type="submit">{{_('Save')}}</button>
  <a href="/extensions">{{_('Cancel')}}</a>
</form>
