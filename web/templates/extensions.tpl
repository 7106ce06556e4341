% rebase('base.tpl')
<h1>{{_('Extensions')}}</h1>
<div class="scroll">
<table>
  <caption class="sr-only">{{_('Extensions')}}</caption>
  <thead><tr><th scope="col">{{_('Number')}}</th><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Class of service')}}</th><th scope="col">{{_('Voicemail')}}</th><th scope="col">{{_('Registered')}}</th><th scope="col">{{_('Actions')}}</th></tr></thead>
  <tbody>
  % for e in extensions:
  <tr>
    <td>{{e['number']}}</td><td>{{e.get('name', '')}}</td><td>{{_(e.get('class_of_service', ''))}}</td>
    <td>{{_('yes') if e.get('voicemail') else _('no')}}</td><td>{{_('yes') if e.get('registered') else _('no')}}</td>
    <td class="actions">
      <a href="/extensions/{{e['number']}}/edit">{{_('Edit')}}</a>
      <a href="/extensions/{{e['number']}}/sheet">{{_('Phone sheet')}}</a>
      <form method="post" action="/extensions/{{e['number']}}/delete" data-confirm="{{_('Delete extension {number}?', number=e['number'])}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" class="danger">{{_('Delete')}}<span class="sr-only"> {{e['number']}}</span></button>
      </form>
    </td>
  </tr>
  % end
  % if not extensions:
  <tr><td colspan="6">{{_('No extensions yet.')}}</td></tr>
  % end
  </tbody>
</table>
</div>
<section class="card narrow" aria-labelledby="add-title">
  <h2 id="add-title">{{_('Add an extension')}}</h2>
  <form method="post" action="/extensions">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="number">{{_('Number')}}</label>
    <input id="number" name="number" value="{{form.get('number', '')}}" required inputmode="numeric" aria-describedby="number-help">
    <p class="help" id="number-help">{{_('The digits a colleague dials, e.g. 1001.')}}</p>
    <label for="name">{{_('Name')}}</label>
    <input id="name" name="name" value="{{form.get('name', '')}}" required>
    <label for="class_of_service">{{_('Class of service')}}</label>
    <select id="class_of_service" name="class_of_service" aria-describedby="cos-help">
      % for c in classes:
      <option value="{{c}}" {{!'selected' if form.get('class_of_service', 'national') == c else ''}}>{{_(c)}}</option>
      % end
    </select>
    <p class="help" id="cos-help">{{_('Which numbers this phone may call out to.')}}</p>
    <div class="check"><input id="voicemail" name="voicemail" type="checkbox" {{!'checked' if form.get('voicemail', True) else ''}}><label for="voicemail">{{_('Voicemail')}}</label></div>
    <label for="secret">{{_('Secret')}}</label>
    <input id="secret" name="secret" type="password" autocomplete="new-password" aria-describedby="secret-help">
    <p class="help" id="secret-help">{{_('Leave empty to have a strong secret generated; it is shown once.')}}</p>
    <button type="submit">{{_('Add extension')}}</button>
  </form>
</section>
