% rebase('base.tpl')
<h1>Extensions</h1>
<div class="scroll">
<table>
  <caption class="sr-only">Extensions</caption>
  <thead><tr><th scope="col">Number</th><th scope="col">Name</th><th scope="col">Class of service</th><th scope="col">Voicemail</th><th scope="col">Registered</th><th scope="col">Actions</th></tr></thead>
  <tbody>
  % for e in extensions:
  <tr>
    <td>{{e['number']}}</td><td>{{e.get('name', '')}}</td><td>{{e.get('class_of_service', '')}}</td>
    <td>{{'yes' if e.get('voicemail') else 'no'}}</td><td>{{'yes' if e.get('registered') else 'no'}}</td>
    <td class="actions">
      <a href="/extensions/{{e['number']}}/edit">Edit</a>
      <a href="/extensions/{{e['number']}}/sheet">Phone sheet</a>
      <form method="post" action="/extensions/{{e['number']}}/delete" data-confirm="Delete extension {{e['number']}}?">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <button type="submit" class="danger">Delete<span class="sr-only"> {{e['number']}}</span></button>
      </form>
    </td>
  </tr>
  % end
  % if not extensions:
  <tr><td colspan="6">No extensions yet.</td></tr>
  % end
  </tbody>
</table>
</div>
<section class="card narrow" aria-labelledby="add-title">
  <h2 id="add-title">Add an extension</h2>
  <form method="post" action="/extensions">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="number">Number</label>
    <input id="number" name="number" value="{{form.get('number', '')}}" required inputmode="numeric" aria-describedby="number-help">
    <p class="help" id="number-help">The digits a colleague dials, e.g. 1001.</p>
    <label for="name">Name</label>
    <input id="name" name="name" value="{{form.get('name', '')}}" required>
    <label for="class_of_service">Class of service</label>
    <select id="class_of_service" name="class_of_service" aria-describedby="cos-help">
      % for c in classes:
      <option value="{{c}}" {{!'selected' if form.get('class_of_service', 'national') == c else ''}}>{{c}}</option>
      % end
    </select>
    <p class="help" id="cos-help">Which numbers this phone may call out to.</p>
    <div class="check"><input id="voicemail" name="voicemail" type="checkbox" {{!'checked' if form.get('voicemail', True) else ''}}><label for="voicemail">Voicemail</label></div>
    <label for="secret">Secret</label>
    <input id="secret" name="secret" type="password" autocomplete="new-password" aria-describedby="secret-help">
    <p class="help" id="secret-help">Leave empty to have a strong secret generated; it is shown once.</p>
    <button type="submit">Add extension</button>
  </form>
</section>
