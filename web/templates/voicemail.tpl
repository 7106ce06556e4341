% rebase('base.tpl')
<h1>{{_("Voicemail")}}</h1>
% if not boxes:
<p>{{_("There are no voicemail boxes you may open.")}}</p>
% else:
<div class="scroll">
<table>
  <caption>{{_("Voicemail boxes")}}</caption>
  <thead><tr><th scope="col">{{_("Box")}}</th><th scope="col">{{_("New")}}</th><th scope="col">{{_("Old")}}</th><th scope="col">{{_("Email")}}</th></tr></thead>
  <tbody>
  % for b in boxes:
  <tr><td><a href="/voicemail/{{b['number']}}">{{b['number']}}</a></td>
      <td>{{t.number(b.get('new', 0))}}</td><td>{{t.number(b.get('old', 0))}}</td>
      <td>{{b.get('email') or '–'}}</td></tr>
  % end
  </tbody>
</table>
</div>
% end
